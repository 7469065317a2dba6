import { useEffect, useState } from 'preact/hooks';

/** Re-renders (at most once per frame) whenever `subscribe`'s source says something changed. */
export function useChanges(subscribe: (listener: () => void) => () => void): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let scheduled = false;
    return subscribe(() => {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        setVersion((v) => v + 1);
      });
    });
  }, [subscribe]);
  return version;
}
