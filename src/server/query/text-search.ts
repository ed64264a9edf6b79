/**
 * `search_text` of tasks.get_all. The real server runs a MongoDB text search over its task text
 * index (clearml-server apiserver/database/model/task/task.py, "main_text_index": name, id, comment,
 * report, models.input.model, models.output.model, script.repository, script.entry_point). Ours
 * matches whole words, case-insensitively: a task matches when any word of the query is a word of
 * one of those fields; a query with "quoted phrases" matches only tasks holding every phrase (as
 * MongoDB does). No stemming, no stop words, no scoring.
 */
import type { Predicate } from './filters.js';

function fieldTexts(d: Record<string, any>): string[] {
  const out: string[] = [];
  for (const v of [d.id, d.name, d.comment, d.report, d.script?.repository, d.script?.entry_point]) if (typeof v === 'string') out.push(v);
  for (const kind of ['input', 'output']) {
    for (const m of d.models?.[kind] ?? []) if (typeof m?.model === 'string') out.push(m.model);
  }
  return out;
}

const words = (s: string): string[] => s.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter(Boolean);

export function textSearchPredicate(body: Record<string, any>): Predicate[] {
  const q = body.search_text;
  if (typeof q !== 'string' || !q.trim()) return [];
  const phrases = [...q.matchAll(/"([^"]+)"/g)].map((m) => m[1].toLowerCase());
  const terms = new Set(words(q.replace(/"[^"]*"/g, ' ')));
  return [
    (d) => {
      const texts = fieldTexts(d);
      if (phrases.length) return phrases.every((p) => texts.some((t) => t.toLowerCase().includes(p)));
      return texts.some((t) => words(t).some((w) => terms.has(w)));
    },
  ];
}
