/**
 * The pass's side of dataset lineage: takes the versions that must stay out of the selection (with
 * their reasons, into the report and the log), and while the pass runs holds back a parent whose
 * deletable child was not deleted after all (its planning failed, a file could not be deleted, the
 * server refused): the child still needs the parent's chunks.
 */
import type { Api, Logger } from './ports.js';
import type { LimitFunction } from 'p-limit';
import { decideLineage, label, loadLineage, orderCandidates } from './lineage.js';
import { addSkipped, type PassReport } from './report.js';
import type { Candidate } from './select.js';

/** Kept-version lines written to the log (all of them are in the report, up to its list cap). */
const LOG_LINES = 50;

export interface DatasetOrder {
  /** candidates that are not dataset versions, in selection order */
  plain: Candidate[];
  /** dataset versions to delete, children's layer first */
  layers: Candidate[][];
  /** dataset versions taken out of the selection for lineage */
  keptCount: number;
  /** the part of a batch that may go now; the rest is reported as kept and counted as not deleted */
  holdBack(batch: Candidate[]): Candidate[];
  /** candidates that this pass did not delete after all */
  notDeleted(ids: string[]): void;
}

export interface LineageSummary {
  /** dataset versions on the server */
  versions: number;
  /** kept because a version that stays needs them (or a broken graph might) */
  keptForLineage: number;
  /** versions whose graph could not be read */
  brokenGraphs: number;
  /** link entries (add_external_files) of deleted versions: never deleted */
  linksKept: number;
  /** those links, when the version's state was read; else the count per version */
  keptLinks: Array<{ id: string; url?: string; count?: number }>;
}

export async function datasetOrder(
  deps: { api: Api; log: Logger; limit: LimitFunction; readText?: (url: string, maxBytes: number) => Promise<string> },
  deletable: Candidate[],
  report: PassReport,
): Promise<DatasetOrder> {
  const deletableIds = new Set(deletable.map((c) => c.id));
  const graph = await loadLineage(deps, deletableIds);
  const decision = decideLineage(graph, deletableIds);
  const { plain, layers } = orderCandidates(deletable, decision);
  const byId = new Map(deletable.map((c) => [c.id, c]));

  const summary: LineageSummary = {
    versions: graph.versions.size,
    keptForLineage: decision.kept.length,
    brokenGraphs: decision.broken,
    linksKept: decision.keptLinks.reduce((n, l) => n + (l.url ? 1 : (l.count ?? 0)), 0),
    keptLinks: decision.keptLinks.slice(0, report.listCap),
  };
  report.datasets = summary;
  decision.kept.forEach((k, i) => {
    const c = byId.get(k.id);
    addSkipped(report, { ...k, status: c?.status, rule: 'dataset_lineage' });
    if (i < LOG_LINES) deps.log.info(`Keeping dataset version ${k.id} (${k.name ?? ''}): ${k.reason}`);
  });
  if (decision.kept.length > LOG_LINES) deps.log.info(`... and ${decision.kept.length - LOG_LINES} more dataset versions kept for their lineage`);
  for (const v of graph.versions.values()) {
    if (!v.source) deps.log.warn(`Dataset version ${label(v)}: ${v.brokenWhy}; it and every older dataset version are kept`);
  }
  if (summary.linksKept) deps.log.info(`${summary.linksKept} files registered by link (add_external_files) in deleted dataset versions stay where they are`);

  const dependants = decision.dependants;
  const notDeleted = new Set<string>();
  return {
    plain,
    layers,
    keptCount: decision.kept.length,
    holdBack(batch) {
      const go: Candidate[] = [];
      for (const c of batch) {
        // name a direct child when one is waiting, else any version whose graph holds this one
        const blocked = (dependants.get(c.id) ?? []).filter((d) => notDeleted.has(d));
        const waiting = blocked.find((d) => graph.versions.get(d)?.parents.includes(c.id)) ?? blocked[0];
        if (waiting === undefined) {
          go.push(c);
          continue;
        }
        const d = graph.versions.get(waiting);
        notDeleted.add(c.id);
        addSkipped(report, {
          id: c.id,
          name: c.name,
          status: c.status,
          reason: `parent of kept dataset version ${d ? label(d) : waiting} (this pass could not delete it)`,
          rule: 'dataset_lineage',
        });
      }
      return go;
    },
    notDeleted(ids) {
      for (const id of ids) if (graph.versions.has(id)) notDeleted.add(id);
    },
  };
}
