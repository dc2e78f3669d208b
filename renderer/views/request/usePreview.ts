import { useEffect, useState } from 'react';
import type { RequestPreviewView } from '../../../api/schemas.js';
import type { InvokeArgs } from '../../../preload/contract.js';
import { useRuntime } from '../../state/hooks.js';
import { PREVIEW_PAUSE_MS } from './preview-pause.js';

/**
 * The service's preview of the request as the form stands: what it would do and why not. Null until the
 * first answer and when the service does not answer (the dialog then says what the catalog alone tells).
 * While the person types, the last answer stays (no flicker at each key); an answer to an input that has
 * changed since it was asked is dropped, so a slow answer never replaces a newer one.
 */
export function usePreview(input: InvokeArgs<'previewRequest'> | null): RequestPreviewView | null {
  const runtime = useRuntime();
  const [preview, setPreview] = useState<RequestPreviewView | null>(null);
  const key = input === null ? null : JSON.stringify(input);

  useEffect(() => {
    if (key === null || input === null) return;
    let current = true;
    const timer = setTimeout(() => {
      void runtime.api.previewRequest(input).then((result) => {
        if (current) setPreview(result.ok ? result.value : null);
      });
    }, PREVIEW_PAUSE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // `key` stands for `input`: a new object with the same fields is the same question.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, runtime]);

  return preview;
}
