// A modal dialog on the native <dialog> element: the rest of the page is
// inert, Tab and Shift+Tab stay inside, Escape closes it, and focus returns
// to where it was.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

interface Props {
  title: string;
  /** Asked to close (button, Escape); answering false keeps the dialog open. */
  onClose: () => void | boolean;
  children: ComponentChildren;
  testId?: string;
  /** CSS selector of the element focused first (defaults to the first focusable one). */
  initialFocus?: string;
  wide?: boolean;
}

let counter = 0;

export function Dialog({ title, onClose, children, testId, initialFocus, wide }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dialog-title-${++counter}`).current;
  const closed = useRef(false);
  const closeRef = useRef(() => {});
  // Escape can arrive both as keydown and as the dialog's cancel event: close once.
  closeRef.current = () => {
    if (closed.current) return;
    closed.current = true;
    if (onClose() === false) closed.current = false;
  };

  useEffect(() => {
    const dlg = ref.current!;
    const previous = document.activeElement as HTMLElement | null;
    if (!dlg.open) {
      if (typeof dlg.showModal === "function") dlg.showModal();
      else dlg.setAttribute("open", "");
    }
    const first =
      (initialFocus ? dlg.querySelector<HTMLElement>(initialFocus) : null) ?? dlg.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();

    const onCancel = (e: Event) => {
      e.preventDefault();
      closeRef.current();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        closeRef.current();
        return;
      }
      if (e.key !== "Tab") return;
      const items = [...dlg.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null);
      if (items.length === 0) {
        e.preventDefault();
        return;
      }
      const firstEl = items[0];
      const lastEl = items[items.length - 1];
      if (e.shiftKey && (document.activeElement === firstEl || !dlg.contains(document.activeElement))) {
        e.preventDefault();
        lastEl.focus();
      } else if (!e.shiftKey && (document.activeElement === lastEl || !dlg.contains(document.activeElement))) {
        e.preventDefault();
        firstEl.focus();
      }
    };
    dlg.addEventListener("cancel", onCancel);
    dlg.addEventListener("keydown", onKey);
    return () => {
      dlg.removeEventListener("cancel", onCancel);
      dlg.removeEventListener("keydown", onKey);
      if (dlg.open) dlg.close();
      previous?.focus?.();
    };
  }, []);

  return (
    <dialog ref={ref} class={wide ? "dialog dialog-wide" : "dialog"} aria-labelledby={titleId} data-testid={testId}>
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" data-testid="dialog-close" onClick={() => closeRef.current()}>
          ×
        </button>
      </div>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}
