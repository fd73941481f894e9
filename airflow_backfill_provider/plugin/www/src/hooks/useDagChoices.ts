// What the form offers to pick: DAG ids matching what is typed, and the chosen DAG's tasks.
import { useState } from "react";

import { api } from "../api";
import { useDelayed } from "./useDelayed";

export function useDagChoices(dagId: string, fixedDagId?: string) {
  const [dagIds, setDagIds] = useState<string[]>([]);
  const [tasks, setTasks] = useState<string[]>([]);
  useDelayed(
    (signal) => {
      if (!fixedDagId) api.dags(dagId, signal).then(setDagIds, () => setDagIds([]));
    },
    [dagId, fixedDagId],
    250,
  );
  useDelayed(
    (signal) => {
      if (dagId) api.tasks(dagId, signal).then(setTasks, () => setTasks([]));
      else setTasks([]);
    },
    [dagId],
    300,
  );
  return { dagIds, tasks };
}
