package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.List;

/**
 * Input-wise similarity within sequences: over pairs of distinct tokens of the same sequence, the sum and the
 * sum of squares of their raw dot products x_i·x_j, and the same of the rows centred across the width. Mergeable
 * across sequences; one sequence at a time costs O(T²·d) and holds only that sequence's rows. With the layer's
 * act_rms r (or act_rms_width_centred r_c) from {@link LayerStats} these give the mean and RMS off-diagonal of
 * G = ZZᵀ/d (Z = X / r, or Z_c = X_c / r_c) restricted to same-sequence pairs: {@code signal_prop_mean_seq},
 * {@code signal_prop_rms_seq}, {@code signal_prop_mean_seq_width_centred} and
 * {@code signal_prop_rms_seq_width_centred}, the within-sequence counterparts of LayerStats' {@code signal_prop_mean},
 * {@code signal_prop_rms} and their width-centred variants.
 */
public final class SequencePairs implements Serializable {
  private double dotSum;
  private double dotSquareSum;
  private double centredDotSum;
  private double centredDotSquareSum;
  private long pairs;
  private int d;

  /** The pairs of one sequence's rows (ordered pairs i ≠ j, so each unordered pair counts twice). */
  public static SequencePairs of(List<float[]> rows) {
    SequencePairs p = new SequencePairs();
    p.d = rows.isEmpty() ? 0 : rows.get(0).length;
    double[] rowSums = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      for (float v : rows.get(i)) {
        rowSums[i] += v;
      }
    }
    for (int i = 0; i < rows.size(); i++) {
      float[] a = rows.get(i);
      for (int j = i + 1; j < rows.size(); j++) {
        float[] b = rows.get(j);
        double dot = 0;
        for (int k = 0; k < a.length; k++) {
          dot += (double) a[k] * b[k];
        }
        // (a − mean(a)·1)·(b − mean(b)·1) = a·b − Σa·Σb / d
        double centredDot = dot - rowSums[i] * rowSums[j] / p.d;
        p.dotSum += 2 * dot;
        p.dotSquareSum += 2 * dot * dot;
        p.centredDotSum += 2 * centredDot;
        p.centredDotSquareSum += 2 * centredDot * centredDot;
      }
    }
    p.pairs = (long) rows.size() * (rows.size() - 1);
    return p;
  }

  public SequencePairs merge(SequencePairs o) {
    SequencePairs p = new SequencePairs();
    p.dotSum = dotSum + o.dotSum;
    p.dotSquareSum = dotSquareSum + o.dotSquareSum;
    p.centredDotSum = centredDotSum + o.centredDotSum;
    p.centredDotSquareSum = centredDotSquareSum + o.centredDotSquareSum;
    p.pairs = pairs + o.pairs;
    p.d = Math.max(d, o.d);
    return p;
  }

  /** Mean of G_ij = x_i·x_j / (d·r²) over same-sequence pairs (d: the rows' width). */
  public double mean(double actRms) {
    return dotSum / pairs / scale(actRms);
  }

  /** Root mean square of G_ij over same-sequence pairs. */
  public double rms(double actRms) {
    return Math.sqrt(dotSquareSum / pairs) / scale(actRms);
  }

  /** Mean of x_c,i·x_c,j / (d·r_c²) over same-sequence pairs, the rows centred across the width. */
  public double meanWidthCentred(double actRmsWidthCentred) {
    return centredDotSum / pairs / scale(actRmsWidthCentred);
  }

  /** Root mean square of x_c,i·x_c,j / (d·r_c²) over same-sequence pairs. */
  public double rmsWidthCentred(double actRmsWidthCentred) {
    return Math.sqrt(centredDotSquareSum / pairs) / scale(actRmsWidthCentred);
  }

  private double scale(double rms) {
    return d * rms * rms;
  }

  public long pairs() {
    return pairs;
  }
}
