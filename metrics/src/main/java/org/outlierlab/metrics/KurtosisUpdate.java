package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kurtosis-update decomposition of App D (SCIENCE.md §4) between two snapshots of the same inputs, X (n × d) and
 * X + ΔX, as a mergeable accumulator over token rows. Per neuron j: s_j² = (1/n) Σ_i X_ij², a_j = (2/n) Σ_i
 * X_ij ΔX_ij (order η), b_j = (1/n) Σ_i ΔX_ij² (order η²). With m₂ = mean_j s_j² and m₄ = mean_j s_j⁴, the
 * change of each moment splits exactly into terms of increasing order in the step size:
 * Δm₂ = u2_1 + u2_2 and Δm₄ = u4_1 + u4_2 + u4_3 + u4_4.
 */
public final class KurtosisUpdate implements Serializable {
  /** The terms, in {@link #terms()}' order. */
  public static final List<Statistic> TERMS = List.of(Statistic.U2_1, Statistic.U2_2, Statistic.U4_1, Statistic.U4_2,
      Statistic.U4_3, Statistic.U4_4);
  private final int d;
  private long n;
  private final double[] x2;
  private final double[] xdx;
  private final double[] dx2;

  public KurtosisUpdate(int d) {
    this.d = d;
    x2 = new double[d];
    xdx = new double[d];
    dx2 = new double[d];
  }

  /** One token's row before and after (the same input at the next snapshot step). */
  public void add(float[] before, float[] after) {
    if (before.length != d || after.length != d) {
      throw new IllegalArgumentException("rows of width " + before.length + " and " + after.length + ", expected " + d);
    }
    for (int j = 0; j < d; j++) {
      double x = before[j];
      double dx = (double) after[j] - x;
      x2[j] += x * x;
      xdx[j] += x * dx;
      dx2[j] += dx * dx;
    }
    n++;
  }

  public KurtosisUpdate merge(KurtosisUpdate o) {
    KurtosisUpdate m = new KurtosisUpdate(d);
    m.n = n + o.n;
    for (int j = 0; j < d; j++) {
      m.x2[j] = x2[j] + o.x2[j];
      m.xdx[j] = xdx[j] + o.xdx[j];
      m.dx2[j] = dx2[j] + o.dx2[j];
    }
    return m;
  }

  /** u2_1, u2_2, u4_1 … u4_4, and the moments m2, m4 before the step (App D's table, SCIENCE.md §4). */
  public Map<String, Double> terms() {
    double[] u = new double[6];
    double m2 = 0;
    double m4 = 0;
    for (int j = 0; j < d; j++) {
      double s2 = x2[j] / n;
      double a = 2 * xdx[j] / n;
      double b = dx2[j] / n;
      m2 += s2;
      m4 += s2 * s2;
      u[0] += a;
      u[1] += b;
      u[2] += 2 * s2 * a;
      u[3] += 2 * s2 * b + a * a;
      u[4] += 2 * a * b;
      u[5] += b * b;
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (int k = 0; k < TERMS.size(); k++) {
      out.put(TERMS.get(k).metric(), u[k] / d);
    }
    out.put("m2", m2 / d);
    out.put("m4", m4 / d);
    return out;
  }
}
