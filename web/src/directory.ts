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

/** One node of the directory as a tree, with its children sorted by name. */
export interface TreeNode {
  node: DirNode;
  /** "platform / billing / web / production": every name from the team down. */
  fullPath: string;
  children: TreeNode[];
}

/** The level a node's children have; null for an environment (a leaf). */
export function childLevel(level: ScopeLevel): ScopeLevel | null {
  const next: Record<ScopeLevel, ScopeLevel | null> = {
    team: "project",
    project: "target",
    target: "environment",
    environment: null,
  };
  return next[level];
}

/**
 * The directory as a tree of teams ⊃ projects ⊃ targets ⊃ environments, each
 * level sorted by name. A node whose parent is not in the directory (a list
 * the key cannot read) becomes a root, so nothing readable is hidden.
 */
export function buildTree(dir: Directory): TreeNode[] {
  const made = new Map<string, TreeNode>();
  for (const n of dir.nodes) made.set(n.id, { node: n, fullPath: n.name, children: [] });
  const roots: TreeNode[] = [];
  for (const n of dir.nodes) {
    const t = made.get(n.id)!;
    const parentId = n.lineage.length > 1 ? n.lineage[n.lineage.length - 2] : null;
    const parent = parentId ? made.get(parentId) : undefined;
    if (parent && parent.node.level !== n.level) parent.children.push(t);
    else roots.push(t);
  }
  const order: Record<ScopeLevel, number> = { team: 0, project: 1, target: 2, environment: 3 };
  const sortAndName = (list: TreeNode[], prefix: string) => {
    list.sort((a, b) => order[a.node.level] - order[b.node.level] || byName(a.node, b.node) || byId(a.node, b.node));
    for (const t of list) {
      t.fullPath = prefix ? `${prefix} / ${t.node.name}` : t.node.name;
      sortAndName(t.children, t.fullPath);
    }
  };
  sortAndName(roots, "");
  return roots;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
