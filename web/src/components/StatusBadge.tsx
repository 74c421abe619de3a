import type { KeyStatus } from "../types";

const LABEL: Record<KeyStatus, string> = { active: "Active", expiring_soon: "Expiring soon", expired: "Expired", revoked: "Revoked" };

/** A key status in words ("expiring_soon" → "Expiring soon"). */
export function statusLabel(status: KeyStatus): string {
  return LABEL[status] ?? status;
}

export function StatusBadge({ status }: { status: KeyStatus }) {
  return (
    <span class={`badge badge-${status}`} data-testid="status-badge" data-status={status}>
      {LABEL[status] ?? status}
    </span>
  );
}
