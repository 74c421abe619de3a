import { useEffect, useState } from "preact/hooks";

/** Copies text to the clipboard and says so (politely) to screen readers. */
export function CopyButton({
  text,
  label = "Copy",
  testId,
  onCopied,
  describedBy,
  ariaLabel,
}: {
  text: string;
  label?: string;
  testId?: string;
  /** Called once the text is on the clipboard. */
  onCopied?: () => void;
  describedBy?: string;
  /** The accessible name when the visible label alone is ambiguous (it must contain the label). */
  ariaLabel?: string;
}) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const t = window.setTimeout(() => setState("idle"), 2500);
    return () => window.clearTimeout(t);
  }, [state]);

  const copy = async () => {
    let ok: boolean;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      ok = fallbackCopy(text);
    }
    setState(ok ? "copied" : "failed");
    if (ok) onCopied?.();
  };

  return (
    <span class="copy">
      <button type="button" class="button" data-testid={testId} onClick={copy} aria-describedby={describedBy} aria-label={ariaLabel}>
        {label}
      </button>
      <span role="status" class="copy-status" data-testid={testId ? `${testId}-status` : undefined}>
        {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select the text and copy it" : ""}
      </span>
    </span>
  );
}

function fallbackCopy(text: string): boolean {
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}
