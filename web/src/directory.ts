// The organization's hierarchy (teams ⊃ projects ⊃ targets ⊃ environments),
// flattened into nodes with readable paths, for scope pickers and the explorer.
import { listAll, type ApiClient } from "./api";
import type { Environment, Project, ScopeLevel, Target, Team } from "./types";

export interface DirNode {
  level: ScopeLevel;
  id: string;
  name: string;
  /** "billing / web / production" for an environment, "billing" for a project. */
  path: string;
  teamId: string | null;
  projectId: string | null;
  targetId: string | null;
  /** Ids of this node and of every node above it (team first). */
  lineage: string[];
}

export interface Directory {
  nodes: DirNode[];
  byId: Map<string, DirNode>;
  /** True when some list could not be read (the key's scopes hide it). */
  partial: boolean;
}

export const emptyDirectory: Directory = { nodes: [], byId: new Map(), partial: false };

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function buildDirectory(
  teams: Team[],
  projects: Project[],
  targets: Target[],
  environments: Environment[],
  partial = false,
): Directory {
  const nodes: DirNode[] = [];
  const byId = new Map<string, DirNode>();
  const add = (n: DirNode) => {
    nodes.push(n);
    byId.set(n.id, n);
  };
  for (const t of [...teams].sort(byName)) {
    add({ level: "team", id: t.id, name: t.name, path: t.name, teamId: t.id, projectId: null, targetId: null, lineage: [t.id] });
  }
  const projectName = new Map(projects.map((p) => [p.id, p.name]));
  const targetName = new Map(targets.map((t) => [t.id, t.name]));
  for (const p of [...projects].sort(byName)) {
    add({
      level: "project",
      id: p.id,
      name: p.name,
      path: p.name,
      teamId: p.team_id,
      projectId: p.id,
      targetId: null,
      lineage: [p.team_id, p.id],
    });
  }
  for (const t of [...targets].sort(byName)) {
    add({
      level: "target",
      id: t.id,
      name: t.name,
      path: `${projectName.get(t.project_id) ?? t.project_id} / ${t.name}`,
      teamId: t.team_id,
      projectId: t.project_id,
      targetId: t.id,
      lineage: [t.team_id, t.project_id, t.id],
    });
  }
  for (const e of [...environments].sort(byName)) {
    add({
      level: "environment",
      id: e.id,
      name: e.name,
      path: `${projectName.get(e.project_id) ?? e.project_id} / ${targetName.get(e.target_id) ?? e.target_id} / ${e.name}`,
      teamId: e.team_id,
      projectId: e.project_id,
      targetId: e.target_id,
      lineage: [e.team_id, e.project_id, e.target_id, e.id],
    });
  }
  const order: Record<ScopeLevel, number> = { team: 0, project: 1, target: 2, environment: 3 };
  nodes.sort((a, b) => order[a.level] - order[b.level] || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { nodes, byId, partial };
}

export function nodesAt(dir: Directory, level: ScopeLevel): DirNode[] {
  return dir.nodes.filter((n) => n.level === level);
}

/**
 * Reads the whole directory the signed-in key can see. It never rejects: a
 * list that fails (forbidden, network) is left out and the result is marked
 * partial.
 */
export async function loadDirectory(client: ApiClient): Promise<Directory> {
  let partial = false;
  const safe = async <T,>(p: Promise<T[]>): Promise<T[]> => {
    try {
      return await p;
    } catch {
      partial = true;
      return [];
    }
  };
  const [teams, projects] = await Promise.all([
    safe(listAll((l) => client.listTeams(l))),
    safe(listAll((l) => client.listProjects(l))),
  ]);
  const targetLists = await Promise.all(projects.map((p) => safe(listAll((l) => client.listTargets(p.id, l)))));
  const targets = targetLists.flat();
  const envLists = await Promise.all(
    targets.map((t) => safe(listAll((l) => client.listEnvironments(t.project_id, t.id, l)))),
  );
  return buildDirectory(teams, projects, targets, envLists.flat(), partial);
}
