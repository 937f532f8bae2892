package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outlier-feature statistics of one activation tensor X (N token rows × d neurons) as a mergeable
 * accumulator: add rows in any order and partition, merge partial results, then {@link #metrics()}. Memory is
 * O(d) plus two doubles per row (each row's two max-median ratios, kept for their exact median), or O(d²) when
 * the feature Gram is kept; time is O(N·d), or O(N·d²) with the Gram. The formulas are listed at
 * {@link #metrics()}; the science behind them is SCIENCE.md §1.
 */
public final class LayerStats implements Serializable {
  /** The released code adds this to the width-centred RMS before dividing by it. */
  private static final double RELEASED_CODE_RMS_EPS = 1e-8;
  private final int d;
  private final boolean gram;
  private long n;
  /** Σ_i x_ij and Σ_i x_ij² per neuron j. */
  private final double[] sum;
  private final double[] sumSquares;
  /** Σ_i (x_ij − mean_k x_ik)²: the mean squares after centring each row across the width (the released code). */
  private final double[] sumSquaresWidthCentred;
  /** Σ_i mean_j x_ij: with {@link #sum} it gives the width-centred rows' sum vector. */
  private double rowMeanSum;
  /** The row-sum vector Σ_i x_i is {@link #sum}; Σ_i ‖x_i‖², Σ_i ‖x_i‖⁴ and Σ_i ‖x_c,i‖⁴ (x_c,i: row i centred). */
  private double rowNorm2;
  private double rowNorm4;
  private double widthCentredRowNorm4;
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
  /** Each row's max-median ratio, of the row as it is and of the row centred across the width. */
  private final Ratios maxMedianRatios = new Ratios();
  private final Ratios widthCentredMaxMedianRatios = new Ratios();
  /**
   * Per-row work arrays: the |values| of the row and of the centred row, and the median's scratch (rebuilt after
   * deserialisation).
   */
  private transient double[] abs;
  private transient double[] widthCentredAbs;
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
      widthCentredAbs = new double[d];
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
    rowMeanSum += rowMean;
    double centredNorm2 = 0;
    double centredMax = 0;
    for (int j = 0; j < d; j++) {
      double c = row[j] - rowMean;
      sumSquaresWidthCentred[j] += c * c;
      centredNorm2 += c * c;
      widthCentredAbs[j] = Math.abs(c);
      centredMax = Math.max(centredMax, widthCentredAbs[j]);
    }
    widthCentredRowNorm4 += centredNorm2 * centredNorm2;
    if (gram) {
      double[] x = pending[pendingRows++];
      for (int j = 0; j < d; j++) {
        x[j] = row[j];
      }
      if (pendingRows == BLOCK) {
        flushGram();
      }
    }
    maxMedianRatios.add(max / median(abs));
    widthCentredMaxMedianRatios.add(centredMax / median(widthCentredAbs));
  }

  /** The lower of the two middle values for even d, as torch.median; overwrites {@code values}. */
  private double median(double[] values) {
    return Select.kth(values, (d - 1) / 2, scratch1, scratch2);
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
    rowMeanSum += o.rowMeanSum;
    rowNorm2 += o.rowNorm2;
    rowNorm4 += o.rowNorm4;
    widthCentredRowNorm4 += o.widthCentredRowNorm4;
    if (gram) {
      for (int i = 0; i < featureGram.length; i++) {
        featureGram[i] += o.featureGram[i];
      }
    }
    maxMedianRatios.addAll(o.maxMedianRatios);
    widthCentredMaxMedianRatios.addAll(o.widthCentredMaxMedianRatios);
    return this;
  }

  public long rows() {
    return n;
  }

  /**
   * The statistics by name; this list is the authoritative definition of each. Notation: x_i is row i, X_c the
   * rows centred across the width (x_c,i = x_i − mean_j(x_ij)·1, as LayerNorm and the released code centre each
   * token), r = sqrt(Σ_ij x_ij² / (N·d)) and r_c the same of X_c, Z = X / r and Z_c = X_c / r_c, and Eq1(a) =
   * mean_j(a_j²) / mean_j(a_j)² for a per-neuron vector a.
   * <ul>
   *   <li>{@code kurtosis}: Eq1(m), m_j = (1/N) Σ_i z_ij² (Eq 1 of SCIENCE.md §1.2, uncentred; from 1, all neurons equal, to d).
   *   <li>{@code kurtosis_released_code}: what bobby-he/simplified_transformers logs as kurtosis: the unbiased
   *       variance (divisor d − 1) of m'_j = (1/N) Σ_i (x_c,ij / (r_c + 1e-8))²; about
   *       (kurtosis_width_centred − 1)·d/(d − 1), exactly so without the 1e-8.
   *   <li>{@code kurtosis_width_centred}: Eq1(m_c), m_c,j = (1/N) Σ_i x_c,ij² (SCIENCE.md §1.6, centre=width).
   *   <li>{@code kurtosis_neuron_centred}: Eq1(v), v_j = (1/N) Σ_i (x_ij − mean_i x_ij)² (§1.6, centre=neuron).
   *   <li>{@code mmr_mean}, {@code mmr_median}, {@code mmr_max}: the mean, median (lower middle) and max over rows of
   *       max_j |x_ij| / median_j |x_ij| (Eq 2 of SCIENCE.md §1.3; the median over j is the lower middle for even d, as torch's).
   *   <li>{@code mmr_mean_width_centred}, {@code mmr_median_width_centred}, {@code mmr_max_width_centred}: the same
   *       of X_c; mmr_mean_width_centred is the released code's max_median_ratio.
   *   <li>{@code act_rms}: r. {@code act_rms_width_centred}: r_c (the released code's x_rms is r_c + 1e-8).
   *   <li>{@code tokens}: N, the rows aggregated.
   *   <li>{@code signal_prop_mean}: the mean over ordered pairs i ≠ i' of G_ii', G = ZZᵀ/d; in O(N·d) as
   *       (‖Σ_i x_i‖² − Σ_i ‖x_i‖²) / (r²·d·N(N − 1)).
   *   <li>{@code signal_prop_mean_width_centred}: the same of Z_c, with Σ_i x_c,i = Σ_i x_i − (Σ_i mean_j x_ij)·1
   *       (the released code's batch_corr_mean).
   * </ul>
   * With the feature Gram F = Σ_i x_i x_iᵀ (whose width-centred counterpart is F_c = P F P, P = I − 11ᵀ/d):
   * <ul>
   *   <li>{@code gram_diag_sq}, {@code gram_offdiag_sq}: Σ_j (ZᵀZ)_jj² and Σ_{j≠k} (ZᵀZ)_jk², the two parts of
   *       ‖ZᵀZ‖²_F in Eq 5 (SCIENCE.md §1.4); the first is N²·d·kurtosis.
   *   <li>{@code signal_prop_rms}: sqrt(mean over i ≠ i' of G_ii'²), from ‖ZZᵀ‖²_F = ‖ZᵀZ‖²_F (Eq 4) less the
   *       diagonal Σ_i ‖z_i‖⁴.
   *   <li>{@code feat_corr_rms}: sqrt(mean over j ≠ k of (ZᵀZ/N)_jk²).
   *   <li>{@code signal_prop_rms_width_centred}, {@code feat_corr_rms_width_centred}: the same of Z_c, from F_c and
   *       Σ_i ‖x_c,i‖⁴ (the released code's batch_corr_rms and feat_corr_rms).
   * </ul>
   * Only {@code kurtosis_released_code} keeps the released code's + 1e-8 on r_c, so that it is that logged value
   * exactly. The other width-centred metrics are the exact counterparts of the uncentred ones: the max-median
   * ratios are ratios within a row and do not depend on any scale; act_rms, signal prop and feat_corr_rms differ
   * from the released code's values by a relative 1e-8/r_c, 2e-8/r_c and 2e-8/r_c, below float32's resolution
   * for r_c above about 1.
   */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    double meanSquare = rowNorm2 / ((double) n * d); // r²
    double centredNorm2 = Arrays.stream(sumSquaresWidthCentred).sum(); // Σ_i ‖x_c,i‖²
    double centredMeanSquare = centredNorm2 / ((double) n * d); // r_c²
    double releasedCodeScale = square(Math.sqrt(centredMeanSquare) + RELEASED_CODE_RMS_EPS);
    double[] ms = new double[d];
    double[] releasedCodeMs = new double[d];
    double[] var = new double[d];
    for (int j = 0; j < d; j++) {
      ms[j] = sumSquares[j] / n / meanSquare; // m_j: mean over j is 1 by construction
      releasedCodeMs[j] = sumSquaresWidthCentred[j] / n / releasedCodeScale;
      double mean = sum[j] / n;
      var[j] = sumSquares[j] / n - mean * mean;
    }
    m.put("kurtosis", eq1(ms));
    m.put("kurtosis_released_code", unbiasedVariance(releasedCodeMs));
    m.put("kurtosis_neuron_centred", eq1(var));
    m.put("kurtosis_width_centred", eq1(sumSquaresWidthCentred));
    m.put("mmr_mean", maxMedianRatios.mean());
    m.put("mmr_median", maxMedianRatios.median());
    m.put("mmr_max", maxMedianRatios.max());
    m.put("mmr_mean_width_centred", widthCentredMaxMedianRatios.mean());
    m.put("mmr_median_width_centred", widthCentredMaxMedianRatios.median());
    m.put("mmr_max_width_centred", widthCentredMaxMedianRatios.max());
    m.put("act_rms", Math.sqrt(meanSquare));
    m.put("act_rms_width_centred", Math.sqrt(centredMeanSquare));
    m.put("tokens", (double) n);
    double[] centredSum = new double[d];
    for (int j = 0; j < d; j++) {
      centredSum[j] = sum[j] - rowMeanSum;
    }
    m.put("signal_prop_mean", signalPropMean(sum, rowNorm2, meanSquare));
    m.put("signal_prop_mean_width_centred", signalPropMean(centredSum, centredNorm2, centredMeanSquare));
    if (gram) {
      flushGram();
      double[] squares = gramSquares(new double[d], 0);
      m.put("gram_diag_sq", squares[0] / square(meanSquare));
      m.put("gram_offdiag_sq", squares[1] / square(meanSquare));
      m.put("signal_prop_rms", signalPropRms(squares, rowNorm4, meanSquare));
      m.put("feat_corr_rms", featCorrRms(squares[1], meanSquare));
      double[] gramRowMeans = gramRowMeans();
      double[] centredSquares = gramSquares(gramRowMeans, mean(gramRowMeans));
      m.put("signal_prop_rms_width_centred", signalPropRms(centredSquares, widthCentredRowNorm4, centredMeanSquare));
      m.put("feat_corr_rms_width_centred", featCorrRms(centredSquares[1], centredMeanSquare));
    }
    return m;
  }

  /** Σ_{i≠i'} z_i·z_i' = ‖Σ_i z_i‖² − Σ_i ‖z_i‖² with z = x / r, from the rows' sum vector and Σ_i ‖x_i‖². */
  private double signalPropMean(double[] rowSum, double norm2Sum, double meanSquare) {
    double sumNorm2 = 0;
    for (double s : rowSum) {
      sumNorm2 += s * s;
    }
    return (sumNorm2 - norm2Sum) / meanSquare / d / ((double) n * (n - 1));
  }

  /** ‖ZZᵀ‖²_F = ‖ZᵀZ‖²_F (Eq 4) less its diagonal Σ_i ‖z_i‖⁴, over the N(N − 1) off-diagonal entries of ZZᵀ/d. */
  private double signalPropRms(double[] gramSquares, double norm4Sum, double meanSquare) {
    double inputOffDiag = (gramSquares[0] + gramSquares[1] - norm4Sum) / square(meanSquare) / ((double) d * d);
    return Math.sqrt(inputOffDiag / ((double) n * (n - 1)));
  }

  /** The RMS of the d(d − 1) off-diagonal entries of ZᵀZ/N. */
  private double featCorrRms(double gramOffDiagSquares, double meanSquare) {
    return Math.sqrt(gramOffDiagSquares / square(meanSquare) / ((double) n * n) / ((double) d * (d - 1)));
  }

  /** (F1)_j / d: the mean of each row of the (symmetric) feature Gram, from its upper triangle. */
  private double[] gramRowMeans() {
    double[] rowMeans = new double[d];
    for (int j = 0; j < d; j++) {
      for (int k = j; k < d; k++) {
        double g = featureGram[j * d + k];
        rowMeans[j] += g;
        if (k != j) {
          rowMeans[k] += g;
        }
      }
    }
    for (int j = 0; j < d; j++) {
      rowMeans[j] /= d;
    }
    return rowMeans;
  }

  /**
   * {Σ_j E_jj², Σ_{j≠k} E_jk²} of E = F − a1ᵀ − 1aᵀ + b·11ᵀ, F the feature Gram: F itself for a = 0 and b = 0,
   * the width-centred Gram (I − 11ᵀ/d) F (I − 11ᵀ/d) for a = F1/d and b = 1ᵀF1/d². Deriving the centred Gram
   * costs O(d²) instead of a second O(N·d²) accumulation; the subtraction loses digits only in proportion to
   * (common offset / spread)² of the rows: about 1e-12 relative for an offset 100 times the spread.
   */
  private double[] gramSquares(double[] a, double b) {
    double diag = 0;
    double offDiag = 0;
    for (int j = 0; j < d; j++) {
      for (int k = j; k < d; k++) {
        double e = featureGram[j * d + k] - a[j] - a[k] + b; // stored once for the pair (j, k)
        if (j == k) {
          diag += e * e;
        } else {
          offDiag += 2 * e * e;
        }
      }
    }
    return new double[] {diag, offDiag};
  }

  private static double eq1(double[] a) {
    return meanOfSquares(a) / square(mean(a));
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

  /** One value a row, in a primitive array that grows by doubling, kept whole for the exact median. */
  private static final class Ratios implements Serializable {
    private double[] values = new double[1024];
    private int count;

    void add(double ratio) {
      if (count == values.length) {
        values = Arrays.copyOf(values, 2 * count);
      }
      values[count++] = ratio;
    }

    void addAll(Ratios o) {
      for (int i = 0; i < o.count; i++) {
        add(o.values[i]);
      }
    }

    double mean() {
      return Arrays.stream(values, 0, count).average().orElse(Double.NaN);
    }

    double max() {
      return Arrays.stream(values, 0, count).max().orElse(Double.NaN);
    }

    /** The lower middle value for even counts. */
    double median() {
      return Select.kth(Arrays.copyOf(values, count), (count - 1) / 2, new double[count], new double[count]);
    }
  }
}
