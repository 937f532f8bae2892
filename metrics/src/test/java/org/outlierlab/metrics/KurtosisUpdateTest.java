package org.outlierlab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** App D (SCIENCE.md §4): the terms sum exactly to the moment changes, have the stated signs and orders, and merge. */
class KurtosisUpdateTest {
  /** m2 and m4 of a snapshot, brute force from the definitions. */
  static double[] moments(float[][] x) {
    int n = x.length;
    int d = x[0].length;
    double m2 = 0;
    double m4 = 0;
    for (int j = 0; j < d; j++) {
      double s2 = 0;
      for (float[] row : x) {
        s2 += (double) row[j] * row[j];
      }
      s2 /= n;
      m2 += s2 / d;
      m4 += s2 * s2 / d;
    }
    return new double[] {m2, m4};
  }

  static float[][][] pair(int n, int d, double eta, long seed) {
    Random r = new Random(seed);
    float[][] before = new float[n][d];
    float[][] after = new float[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        before[i][j] = (float) (r.nextGaussian() * (j == 2 ? 6 : 1));
        after[i][j] = (float) (before[i][j] + eta * r.nextGaussian());
      }
    }
    return new float[][][] {before, after};
  }

  static KurtosisUpdate of(float[][] before, float[][] after, int from, int to) {
    KurtosisUpdate u = new KurtosisUpdate(before[0].length);
    for (int i = from; i < to; i++) {
      u.add(before[i], after[i]);
    }
    return u;
  }

  @Test
  void theTermsSumExactlyToTheMomentChanges() {
    float[][][] p = pair(40, 9, 0.3, 1);
    Map<String, Double> t = of(p[0], p[1], 0, 40).terms();
    double[] before = moments(p[0]);
    double[] after = moments(p[1]);
    assertEquals(before[0], t.get("m2"), 1e-12);
    assertEquals(before[1], t.get("m4"), 1e-10);
    assertEquals(after[0] - before[0], t.get("u2_1") + t.get("u2_2"), 1e-12);
    assertEquals(after[1] - before[1], t.get("u4_1") + t.get("u4_2") + t.get("u4_3") + t.get("u4_4"), 1e-9);
    assertTrue(t.get("u2_2") >= 0 && t.get("u4_2") >= 0 && t.get("u4_4") >= 0, "the even-order terms are >= 0: " + t);
  }

  @Test
  void eachTermHasItsOrderInTheStepSize() {
    // same direction, step halved: a term of order k shrinks by 2^k
    float[][][] big = pair(30, 6, 0.2, 4);
    float[][] half = new float[30][6];
    for (int i = 0; i < 30; i++) {
      for (int j = 0; j < 6; j++) {
        half[i][j] = (float) (big[0][i][j] + 0.5 * ((double) big[1][i][j] - big[0][i][j]));
      }
    }
    Map<String, Double> full = of(big[0], big[1], 0, 30).terms();
    Map<String, Double> halved = of(big[0], half, 0, 30).terms();
    int[] order = {1, 2, 1, 2, 3, 4};
    String[] names = {"u2_1", "u2_2", "u4_1", "u4_2", "u4_3", "u4_4"};
    for (int k = 0; k < names.length; k++) {
      assertEquals(full.get(names[k]) / Math.pow(2, order[k]), halved.get(names[k]),
          1e-4 * Math.abs(full.get(names[k])), names[k]);
    }
  }

  @Test
  void mergedPartsEqualTheWhole() {
    float[][][] p = pair(25, 5, 0.1, 2);
    Map<String, Double> whole = of(p[0], p[1], 0, 25).terms();
    Map<String, Double> merged = of(p[0], p[1], 0, 11).merge(of(p[0], p[1], 11, 25)).terms();
    whole.forEach((k, v) -> assertEquals(v, merged.get(k), 1e-12 * Math.max(1, Math.abs(v)), k));
  }
}
