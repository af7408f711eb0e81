/**
 * How one server compares with another in a scenario. The measured runs are
 * taken in turns (round 1 on every server, then round 2…), so the two runs of
 * one round saw the same machine: the ratio of each round's pair cancels what
 * the machine did in that round (a neighbour's burst, a slower minute), and
 * the median of those ratios is the comparison. The ratio of the two servers'
 * own medians mixes rounds that ran minutes apart; it is the fallback when the
 * runs do not pair up (a server that failed part-way).
 */

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A ratio and the spread of the rounds it comes from. */
export interface RoundRatio {
  /** The median of the rounds' ratios (or the ratio of medians, when `paired` is false). */
  ratio: number;
  /** The lowest and highest round's ratio. */
  low: number;
  high: number;
  /** Whether the runs paired up round by round. */
  paired: boolean;
}

/**
 * `runs` over `baseRuns`, round by round; undefined when either is empty or a
 * baseline run is 0.
 */
export function roundRatio(
  runs: readonly number[] | undefined,
  baseRuns: readonly number[] | undefined,
): RoundRatio | undefined {
  if (runs === undefined || baseRuns === undefined || runs.length === 0 || baseRuns.length === 0) {
    return undefined;
  }
  if (runs.length !== baseRuns.length) {
    const base = median(baseRuns);
    if (base === 0) return undefined;
    const ratio = median(runs) / base;
    return { ratio, low: ratio, high: ratio, paired: false };
  }
  const ratios: number[] = [];
  for (let i = 0; i < runs.length; i++) {
    if (baseRuns[i] === 0) return undefined;
    ratios.push(runs[i]! / baseRuns[i]!);
  }
  return {
    ratio: median(ratios),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
    paired: true,
  };
}
