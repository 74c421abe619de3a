// Runtime configuration, read from /config.json at start. The single binary
// answers it; on AWS the CDK stack writes it into the bucket with the API's URL.
export interface RuntimeConfig {
  /** Origin (and optional path prefix) of the API; "" means same origin. */
  apiBaseUrl: string;
}

export async function loadConfig(): Promise<RuntimeConfig> {
  try {
    const res = await fetch("/config.json", { cache: "no-store", credentials: "omit" });
    if (res.ok) {
      const data: unknown = await res.json();
      if (data && typeof data === "object" && typeof (data as RuntimeConfig).apiBaseUrl === "string") {
        return { apiBaseUrl: (data as RuntimeConfig).apiBaseUrl.replace(/\/+$/, "") };
      }
    }
  } catch {
    // No config.json (e.g. a plain static host): same origin.
  }
  return { apiBaseUrl: "" };
}
