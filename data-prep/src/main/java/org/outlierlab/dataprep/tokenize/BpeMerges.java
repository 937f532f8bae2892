package org.outlierlab.dataprep.tokenize;

/**
 * Applies ranked BPE merges to a sequence of symbol ids: repeatedly merges the adjacent pair of lowest rank,
 * the leftmost first among equals. A heap keeps it O(n log n), so a 100 KB run of one character stays cheap.
 */
final class BpeMerges {
  private static final long NONE = -1L;
  /** (left id, right id) → (rank << 32 | merged id). */
  private final LongLongMap pairs;
  private final LongHeap heap = new LongHeap();
  private int[] next = new int[64];
  private int[] prev = new int[64];

  BpeMerges(LongLongMap pairs) {
    this.pairs = pairs;
  }

  static long pairKey(int left, int right) {
    return ((long) left << 32) | (right & 0xffffffffL);
  }

  /** Merges {@code symbols[0, n)} in place; returns the merged ids. */
  int[] merge(int[] symbols, int n) {
    if (next.length < n + 1) {
      next = new int[2 * n + 1];
      prev = new int[2 * n + 1];
    }
    heap.clear();
    for (int i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    for (int i = 0; i + 1 < n; i++) {
      pushPair(symbols, i, i + 1);
    }
    int remaining = n;
    while (!heap.isEmpty()) {
      long entry = heap.pop();
      int rank = (int) (entry >>> 32);
      int left = (int) entry;
      if (symbols[left] < 0) {
        continue;
      }
      int right = next[left];
      if (right >= n) {
        continue;
      }
      long merged = pairs.get(pairKey(symbols[left], symbols[right]), NONE);
      // Ranks are unique per pair, so an equal rank means this entry still describes the pair at `left`.
      if (merged == NONE || (int) (merged >>> 32) != rank) {
        continue;
      }
      symbols[left] = (int) merged;
      symbols[right] = -1;
      next[left] = next[right];
      if (next[right] < n) {
        prev[next[right]] = left;
      }
      remaining--;
      if (prev[left] >= 0) {
        pushPair(symbols, prev[left], left);
      }
      if (next[left] < n) {
        pushPair(symbols, left, next[left]);
      }
    }
    int[] out = new int[remaining];
    for (int i = 0, k = 0; i < n; i = next[i]) {
      out[k++] = symbols[i];
    }
    return out;
  }

  private void pushPair(int[] symbols, int left, int right) {
    long merged = pairs.get(pairKey(symbols[left], symbols[right]), NONE);
    if (merged != NONE) {
      heap.push((merged >>> 32) << 32 | left);
    }
  }
}
