// A key's usage (GET /v1/api-keys/{id}/usage): a 30-day bar chart of allowed
// and denied verifications per UTC day (an SVG whose text alternative is the
// summary sentence, with the numbers in a table below), and the last use of
// the current token and, during a grace, of the previous one.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { useSession } from "../app";
import type { KeyUsage } from "../types";
import { chartBars, chartMax, dayLabel, deniedByText, usageSummary } from "../usage";
import { errorText } from "./Errors";
import { LastUse } from "./LastUse";
import "./Activity.css";

export function UsagePanel({ keyId, reload }: { keyId: string; reload: number }) {
  const { session } = useSession();
  const [usage, setUsage] = useState<KeyUsage | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    session.client.keyUsage(keyId).then(
      (u) => live && setUsage(u),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [keyId, reload]);

  return (
    <section class="section usage" aria-labelledby="usage-title" data-testid="usage">
      <h2 id="usage-title">Usage</h2>
      {error ? (
        <p class="muted" data-testid="usage-unavailable">
          {error instanceof ApiError && error.status === 403
            ? "Your key cannot read this key's usage: it needs “Read API tokens” (api_tokens:read)."
            : `Usage could not be read: ${errorText(error)}`}
        </p>
      ) : !usage ? (
        <p class="loading" role="status">
          Loading usage…
        </p>
      ) : (
        <UsageView usage={usage} />
      )}
    </section>
  );
}

function UsageView({ usage }: { usage: KeyUsage }) {
  const bars = chartBars(usage.days);
  const max = chartMax(usage.days);
  const w = 10;
  return (
    <>
      <p id="usage-summary" data-testid="usage-summary">
        {usageSummary(usage)}
      </p>
      <p class="usage-totals">
        <span class="legend legend-allowed" aria-hidden="true" /> Allowed{" "}
        <strong data-testid="usage-allowed">{usage.totals.allowed}</strong>
        <span class="legend legend-denied" aria-hidden="true" /> Denied <strong data-testid="usage-denied">{usage.totals.denied}</strong>
      </p>
      <figure class="usage-chart">
        <svg
          role="img"
          aria-labelledby="usage-summary"
          viewBox={`0 0 ${bars.length * w} 100`}
          preserveAspectRatio="none"
          data-testid="usage-chart"
        >
          {bars.map((b, i) => (
            <g key={b.date}>
              {b.allowed > 0 && (
                <rect class="bar-allowed" x={i * w + 1} width={w - 2} y={100 - b.allowedPart * 100} height={b.allowedPart * 100} />
              )}
              {b.denied > 0 && (
                <rect
                  class="bar-denied"
                  x={i * w + 1}
                  width={w - 2}
                  y={100 - (b.allowedPart + b.deniedPart) * 100}
                  height={b.deniedPart * 100}
                />
              )}
            </g>
          ))}
        </svg>
        <figcaption class="usage-axis muted">
          <span>{dayLabel(usage.from)}</span>
          <span>busiest day: {max}</span>
          <span>{dayLabel(usage.to)}</span>
        </figcaption>
      </figure>
      <details class="usage-days">
        <summary>Verifications per day, as a table</summary>
        <div class="table-wrap">
          <table class="table compact" data-testid="usage-table">
            <caption class="sr-only">Verifications per UTC day, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Allowed</th>
                <th scope="col">Denied</th>
                <th scope="col">Why denied</th>
              </tr>
            </thead>
            <tbody>
              {usage.days.map((d) => (
                <tr key={d.date}>
                  <th scope="row">{d.date}</th>
                  <td>{d.allowed}</td>
                  <td>{d.denied}</td>
                  <td>{deniedByText(d.denied_by)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
      <dl class="facts usage-last">
        <dt>Last used</dt>
        <dd>
          <LastUse at={usage.last_used_at} ip={usage.last_used_ip} userAgent={usage.last_used_user_agent} testId="usage-last-use" />
        </dd>
        {usage.previous_token_last_used_at && (
          <>
            <dt>Previous token last used</dt>
            <dd>
              <LastUse
                at={usage.previous_token_last_used_at}
                ip={usage.previous_token_last_used_ip}
                userAgent={usage.previous_token_last_used_user_agent}
                testId="usage-previous-last-use"
              />
            </dd>
          </>
        )}
      </dl>
    </>
  );
}
