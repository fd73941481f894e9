// The "Backfill plans" page of the Airflow UI. Airflow loads this bundle and renders its default
// export with the page's props: in the navigation none, on a DAG's tab ``dagId``.
import { useRoute } from "./hooks/useRoute";
import { NewPlan } from "./pages/NewPlan";
import { PlanList } from "./pages/PlanList";
import { PlanView } from "./pages/PlanView";
import { CSS } from "./styles";

export interface PluginProps {
  dagId?: string;
}

export default function BackfillPlansPage({ dagId }: PluginProps) {
  const [params, go] = useRoute();
  const planRef = params.get("plan");
  const view = params.get("view");
  return (
    <div className="bfp" style={{ padding: 16 }}>
      <style>{CSS}</style>
      {planRef ? (
        <PlanView key={planRef} planRef={planRef} params={params} go={go} />
      ) : view === "new" ? (
        <NewPlan
          fixedDagId={dagId}
          onCreated={(id) => go({ view: null, plan: String(id) })}
          onCancel={() => go({ view: null })}
        />
      ) : (
        <PlanList fixedDagId={dagId} params={params} go={go} />
      )}
    </div>
  );
}
