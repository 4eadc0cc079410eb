/**
 * How one llama_decode() batch is shared between the sequences that have tokens waiting: higher
 * evaluation priority first, then equal shares, leftovers to whoever still has tokens (the spirit of
 * node-llama-cpp's default "maximumParallelism", written here because the server passes its own
 * strategy to count decode batches for /metrics). Structural types: node-llama-cpp's BatchItem.
 */

export interface ShareableItem {
  readonly tokens: readonly unknown[];
  readonly evaluationPriority: number;
}

export interface SharedItem<T extends ShareableItem> {
  item: T;
  processAmount: number;
}

export function shareBatch<T extends ShareableItem>(items: readonly T[], size: number): SharedItem<T>[] {
  const ordered = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.evaluationPriority - a.item.evaluationPriority || a.index - b.index)
    .map(({ item }) => item);
  const amounts = ordered.map(() => 0);
  let left = Math.max(0, Math.floor(size));
  while (left > 0) {
    const wanting = ordered.filter((item, index) => (amounts[index] ?? 0) < item.tokens.length).length;
    if (wanting === 0) break;
    const share = Math.max(1, Math.floor(left / wanting));
    ordered.forEach((item, index) => {
      const given = amounts[index] ?? 0;
      const amount = Math.min(share, item.tokens.length - given, left);
      if (amount > 0) {
        amounts[index] = given + amount;
        left -= amount;
      }
    });
  }
  return ordered
    .map((item, index) => ({ item, processAmount: amounts[index] ?? 0 }))
    .filter((shared) => shared.processAmount > 0);
}
