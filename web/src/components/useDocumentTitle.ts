import { useEffect } from 'react';

/** "<page> · <workspace> · RaptorFlow" in the tab, so tabs and history say where they lead. */
export function useDocumentTitle(...parts: Array<string | null | undefined>): void {
  const title = [...parts.filter(Boolean), 'RaptorFlow'].join(' · ');
  useEffect(() => {
    document.title = title;
  }, [title]);
}
