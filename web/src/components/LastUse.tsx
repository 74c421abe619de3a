// Where a token was last used: time, address and user agent, in one line.
import { When } from "../pages/KeyList";

/** The last use of a token: when, from which address, with which user agent ("Not used yet" without one). */
export function LastUse({ at, ip, userAgent, testId }: { at: string | null | undefined; ip?: string | null; userAgent?: string | null; testId?: string }) {
  return (
    <span data-testid={testId}>
      <When iso={at ?? null} empty="Not used yet" />
      {at && ip && (
        <>
          {" "}
          from <code data-testid={testId ? `${testId}-ip` : undefined}>{ip}</code>
        </>
      )}
      {at && userAgent && (
        <span class="muted user-agent" data-testid={testId ? `${testId}-ua` : undefined}>
          {" "}
          ({userAgent})
        </span>
      )}
    </span>
  );
}
