package org.outlierlab.metrics;

/**
 * The k-th smallest value of an array in expected O(n) (quickselect), instead of sorting it. Each round splits
 * the candidates into those below and above a median-of-three pivot without branching on the data (the values
 * are written to both sides and only the counts advance), because for the max-median ratio's random rows a
 * branching partition loses most of its time to mispredictions.
 */
final class Select {
  private Select() {}

  /**
   * The k-th smallest (0-based) value of {@code a}. {@code a} and the two scratch arrays (each at least as long
   * as {@code a}) are overwritten.
   */
  static double kth(double[] a, int k, double[] scratch1, double[] scratch2) {
    double[] src = a;
    double[] below = scratch1;
    double[] above = scratch2;
    int n = a.length;
    while (n > 1) {
      double pivot = medianOfThree(src[0], src[n >>> 1], src[n - 1]);
      int nBelow = 0;
      int nAbove = 0;
      for (int i = 0; i < n; i++) {
        double v = src[i];
        below[nBelow] = v;
        above[nAbove] = v;
        nBelow += v < pivot ? 1 : 0;
        nAbove += v > pivot ? 1 : 0;
      }
      double[] free = src;
      if (k < nBelow) {
        src = below;
        below = free;
        n = nBelow;
      } else if (k < n - nAbove) {
        return pivot; // among the values equal to the pivot
      } else {
        k -= n - nAbove;
        src = above;
        above = free;
        n = nAbove;
      }
    }
    return src[0];
  }

  private static double medianOfThree(double a, double b, double c) {
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }
}
