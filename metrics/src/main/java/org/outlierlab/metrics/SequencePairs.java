package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.List;

/**
 * Input-wise similarity within sequences: over pairs of distinct tokens of the same sequence, the sum and the
 * sum of squares of their raw dot products x_i·x_j. Mergeable across sequences; one sequence at a time costs
 * O(T²·d) and holds only that sequence's rows. With the layer's act_rms r from {@link LayerStats} these give
 * the mean and RMS off-diagonal of G = ZZᵀ/d (Z = X / r) restricted to same-sequence pairs, the within-sequence
 * counterparts of {@code signal_prop_mean} and {@code signal_prop_rms}.
 */
public final class SequencePairs implements Serializable {
  private double dotSum;
  private double dotSquareSum;
  private long pairs;
  private int d;

  /** The pairs of one sequence's rows (ordered pairs i ≠ j, so each unordered pair counts twice). */
  public static SequencePairs of(List<float[]> rows) {
    SequencePairs p = new SequencePairs();
    for (int i = 0; i < rows.size(); i++) {
      float[] a = rows.get(i);
      for (int j = i + 1; j < rows.size(); j++) {
        float[] b = rows.get(j);
        double dot = 0;
        for (int k = 0; k < a.length; k++) {
          dot += (double) a[k] * b[k];
        }
        p.dotSum += 2 * dot;
        p.dotSquareSum += 2 * dot * dot;
      }
    }
    p.pairs = (long) rows.size() * (rows.size() - 1);
    p.d = rows.isEmpty() ? 0 : rows.get(0).length;
    return p;
  }

  public SequencePairs merge(SequencePairs o) {
    SequencePairs p = new SequencePairs();
    p.dotSum = dotSum + o.dotSum;
    p.dotSquareSum = dotSquareSum + o.dotSquareSum;
    p.pairs = pairs + o.pairs;
    p.d = Math.max(d, o.d);
    return p;
  }

  /** Mean of G_ij = x_i·x_j / (d·r²) over same-sequence pairs (d: the rows' width). */
  public double mean(double actRms) {
    return dotSum / pairs / (d * actRms * actRms);
  }

  /** Root mean square of G_ij over same-sequence pairs. */
  public double rms(double actRms) {
    return Math.sqrt(dotSquareSum / pairs) / (d * actRms * actRms);
  }

  public long pairs() {
    return pairs;
  }
}
