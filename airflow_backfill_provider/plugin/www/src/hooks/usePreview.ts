// The live preview of the plan being edited: the server plans what the form says after a pause in
// typing, or at once when asked ("Preview").
import { useEffect, useMemo, useRef, useState } from "react";

import { api, type Preview } from "../api";
import { type PlanDoc } from "../planDoc";

export function usePreview(doc: PlanDoc, dagId: string) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [asked, setAsked] = useState(0);
  const lastAsked = useRef(0);
  const body = useMemo(() => JSON.stringify(doc), [doc]);

  useEffect(() => {
    if (!dagId) {
      setPreview(null);
      setPreviewError(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(
      () => {
        setPreviewing(true);
        api
          .preview(JSON.parse(body), controller.signal)
          .then((found) => {
            setPreview(found);
            setPreviewError(null);
          })
          .catch((exc: unknown) => {
            if ((exc as Error).name === "AbortError") return;
            setPreview(null);
            setPreviewError(exc);
          })
          .finally(() => {
            if (!controller.signal.aborted) setPreviewing(false);
          });
      },
      asked !== lastAsked.current ? 0 : 400,
    );
    lastAsked.current = asked;
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [body, dagId, asked]);

  return { preview, previewError, previewing, previewNow: () => setAsked((n) => n + 1) };
}
