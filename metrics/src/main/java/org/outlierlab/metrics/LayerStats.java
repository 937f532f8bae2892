package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outlier-feature statistics of one activation tensor X (N token rows × d neurons) as a mergeable
 * accumulator: add rows in any order and partition, merge partial results, then {@link #metrics()}. Memory is
 * O(d) plus one double per row (for the exact median of the per-row max-median ratio), or O(d²) when the
 * feature Gram is kept; time is O(N·d), or O(N·d²) with the Gram. Definitions: PAPER.md §1.
 */
public final class LayerStats implements Serializable {
  private final int d;
  private final boolean gram;
  private long n;
  /** Σ_i x_ij and Σ_i x_ij² per neuron j. */
  private final double[] sum;
  private final double[] sumSquares;
  /** Σ_i (x_ij − mean_k x_ik)²: the mean squares after centring each row across the width (the released code). */
  private final double[] sumSquaresWidthCentred;
  /** Σ_i x_i (the row-sum vector) is {@link #sum}; Σ_i ‖x_i‖² and Σ_i ‖x_i‖⁴. */
  private double rowNorm2;
  private double rowNorm4;
  /** Σ_i x_i x_iᵀ (d×d, row-major; only k ≥ j is accumulated, the Gram being symmetric), when requested. */
  private final double[] featureGram;
  /**
   * Rows not yet in the Gram: they are added {@value #BLOCK} at a time, so that each pass over the d²/2 entries
   * (which do not fit in the core's fastest caches for d ≥ 256) does {@value #BLOCK} rows' work.
   */
  private final double[][] pending;
  private int pendingRows;
  private static final int BLOCK = GramKernel.ROWS;
  private static final GramKernel KERNEL = GramKernel.best();
  /** Each row's max-median ratio, in the first {@link #ratioCount} entries (kept whole for the exact median). */
  private double[] maxMedianRatios = new double[1024];
  private int ratioCount;
  /** Per-row work arrays: the row's absolute values and the median's scratch (rebuilt after deserialisation). */
  private transient double[] abs;
  private transient double[] scratch1;
  private transient double[] scratch2;

  /** The feature Gram's kernel in this JVM, for benchmarks and logs: "VectorGram" (SIMD) or "ScalarGram". */
  public static String gramKernel() {
    return KERNEL.getClass().getSimpleName();
  }

  public LayerStats(int d, boolean gram) {
    this.d = d;
    this.gram = gram;
    this.sum = new double[d];
    this.sumSquares = new double[d];
    this.sumSquaresWidthCentred = new double[d];
    this.featureGram = gram ? new double[d * d] : null;
    this.pending = gram ? new double[BLOCK][d] : null;
  }

  public void add(float[] row) {
    if (row.length != d) {
      throw new IllegalArgumentException("row of " + row.length + " values in a layer of width " + d);
    }
    if (abs == null) {
      abs = new double[d];
      scratch1 = new double[d];
      scratch2 = new double[d];
    }
    n++;
    double norm2 = 0;
    double rowSum = 0;
    double max = 0;
    for (int j = 0; j < d; j++) {
      double x = row[j];
      sum[j] += x;
      sumSquares[j] += x * x;
      norm2 += x * x;
      rowSum += x;
      abs[j] = Math.abs(x);
      max = Math.max(max, abs[j]);
    }
    rowNorm2 += norm2;
    rowNorm4 += norm2 * norm2;
    double rowMean = rowSum / d;
    for (int j = 0; j < d; j++) {
      double c = row[j] - rowMean;
      sumSquaresWidthCentred[j] += c * c;
    }
    if (gram) {
      double[] x = pending[pendingRows++];
      for (int j = 0; j < d; j++) {
        x[j] = row[j];
      }
      if (pendingRows == BLOCK) {
        flushGram();
      }
    }
    double median = Select.kth(abs, (d - 1) / 2, scratch1, scratch2); // the lower middle for even d, as torch.median
    addRatio(max / median);
  }

  private void addRatio(double ratio) {
    if (ratioCount == maxMedianRatios.length) {
      maxMedianRatios = Arrays.copyOf(maxMedianRatios, 2 * ratioCount);
    }
    maxMedianRatios[ratioCount++] = ratio;
  }

  /** Adds the pending rows to the Gram: G_jk += Σ_r x_rj·x_rk for k ≥ j, a block of rows per pass. */
  private void flushGram() {
    if (pendingRows == 0) {
      return;
    }
    for (int r = pendingRows; r < BLOCK; r++) {
      Arrays.fill(pending[r], 0); // zero rows add nothing
    }
    KERNEL.add(featureGram, pending, d);
    pendingRows = 0;
  }

  public LayerStats merge(LayerStats o) {
    if (o.d != d || o.gram != gram) {
      throw new IllegalArgumentException("cannot merge statistics of different shapes");
    }
    if (gram) {
      flushGram();
      o.flushGram();
    }
    n += o.n;
    for (int j = 0; j < d; j++) {
      sum[j] += o.sum[j];
      sumSquares[j] += o.sumSquares[j];
      sumSquaresWidthCentred[j] += o.sumSquaresWidthCentred[j];
    }
    rowNorm2 += o.rowNorm2;
    rowNorm4 += o.rowNorm4;
    if (gram) {
      for (int i = 0; i < featureGram.length; i++) {
        featureGram[i] += o.featureGram[i];
      }
    }
    for (int i = 0; i < o.ratioCount; i++) {
      addRatio(o.maxMedianRatios[i]);
    }
    return this;
  }

  public long rows() {
    return n;
  }

  /**
   * The statistics by name: {@code kurtosis} (Eq 1), {@code kurt_minus_1} (the released code's unbiased
   * variance of the normalised mean squares), {@code kurtosis_neuron_centred} and {@code kurtosis_width_centred}
   * (PAPER.md §1.6), {@code mmr_mean|median|max},
   * {@code act_rms}, {@code tokens} (rows aggregated), {@code signal_prop_mean} (mean off-diagonal of G = ZZᵀ/d, Z = X / act_rms); with the Gram
   * also {@code signal_prop_rms}, {@code feat_corr_rms}, {@code gram_diag_sq} and {@code gram_offdiag_sq} (the
   * two parts of ‖ZᵀZ‖²_F in Eq 5).
   */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    double meanSquare = rowNorm2 / ((double) n * d); // r²
    double[] ms = new double[d];
    double[] var = new double[d];
    for (int j = 0; j < d; j++) {
      ms[j] = sumSquares[j] / n / meanSquare; // m_j: mean over j is 1 by construction
      double mean = sum[j] / n;
      var[j] = sumSquares[j] / n - mean * mean;
    }
    m.put("kurtosis", meanOfSquares(ms) / square(mean(ms)));
    m.put("kurt_minus_1", unbiasedVariance(ms));
    m.put("kurtosis_neuron_centred", meanOfSquares(var) / square(mean(var)));
    m.put("kurtosis_width_centred", meanOfSquares(sumSquaresWidthCentred) / square(mean(sumSquaresWidthCentred)));
    double[] ratios = Arrays.copyOf(maxMedianRatios, ratioCount);
    m.put("mmr_mean", Arrays.stream(ratios).average().orElse(Double.NaN));
    double max = Arrays.stream(ratios).max().orElse(Double.NaN);
    m.put("mmr_median", Select.kth(ratios, (ratioCount - 1) / 2, new double[ratioCount], new double[ratioCount]));
    m.put("mmr_max", max);
    m.put("act_rms", Math.sqrt(meanSquare));
    m.put("tokens", (double) n);
    // Σ_{i≠i'} z_i·z_i' = ‖Σ z_i‖² − Σ ‖z_i‖², with z = x / r: O(N·d) from the row-sum vector.
    double sumNorm2 = 0;
    for (double s : sum) {
      sumNorm2 += s * s;
    }
    double pairs = (double) n * (n - 1);
    m.put("signal_prop_mean", (sumNorm2 - rowNorm2) / meanSquare / d / pairs);
    if (gram) {
      flushGram();
      double diag = 0;
      double offDiag = 0;
      for (int j = 0; j < d; j++) {
        for (int k = j; k < d; k++) {
          double g = featureGram[j * d + k] / meanSquare; // (ZᵀZ)_jk, stored once for the pair (j, k)
          if (j == k) {
            diag += g * g;
          } else {
            offDiag += 2 * g * g;
          }
        }
      }
      m.put("gram_diag_sq", diag);
      m.put("gram_offdiag_sq", offDiag);
      // ‖ZZᵀ‖²_F = ‖ZᵀZ‖²_F (Eq 4); its diagonal is Σ ‖z_i‖⁴.
      double inputOffDiag = (diag + offDiag - rowNorm4 / (meanSquare * meanSquare)) / ((double) d * d);
      m.put("signal_prop_rms", Math.sqrt(inputOffDiag / pairs));
      m.put("feat_corr_rms", Math.sqrt(offDiag / ((double) n * n) / ((double) d * (d - 1))));
    }
    return m;
  }

  private static double mean(double[] a) {
    return Arrays.stream(a).average().orElse(Double.NaN);
  }

  private static double meanOfSquares(double[] a) {
    return Arrays.stream(a).map(x -> x * x).average().orElse(Double.NaN);
  }

  private static double square(double x) {
    return x * x;
  }

  private static double unbiasedVariance(double[] a) {
    double mean = mean(a);
    double s = 0;
    for (double x : a) {
      s += (x - mean) * (x - mean);
    }
    return s / (a.length - 1);
  }
}
