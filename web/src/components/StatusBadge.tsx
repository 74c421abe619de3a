import type { KeyStatus } from "../types";

const LABEL: Record<KeyStatus, string> = { active: "Active", expiring_soon: "Expiring soon", expired: "Expired", revoked: "Revoked" };

export function StatusBadge({ status }: { status: KeyStatus }) {
  return (
    <span class={`badge badge-${status}`} data-testid="status-badge" data-status={status}>
      {LABEL[status] ?? status}
    </span>
  );
}
