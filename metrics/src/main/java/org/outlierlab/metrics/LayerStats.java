package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The outlier-feature statistics of one activation tensor X (N token rows × d neurons) as a mergeable
 * accumulator: add rows in any order and partition, merge partial results, then {@link #metrics()}. Like Spark
 * MLlib's Summarizer, it computes the {@link Statistic}s it is asked for and allocates only the accumulator groups
 * ({@link Requirement}) they need: O(d) for the moments, a double per row for each max-median ratio (kept for
 * their exact median), O(d²) for the feature Gram; time is O(N·d), or O(N·d²) with the Gram. The formulas are
 * {@link Statistic}'s; the science behind them is SCIENCE.md §1.
 */
public final class LayerStats implements Serializable {
  /** The released code adds this to the width-centred RMS before dividing by it. */
  private static final double RELEASED_CODE_RMS_EPS = 1e-8;
  private final int d;
  private final Set<Statistic> stats;
  private long n;
  /** Each accumulator group, or null when no selected statistic needs it. */
  private final NeuronMoments moments;
  private final WidthCentredMoments centred;
  private final MaxMedianRatios ratios;
  private final MaxMedianRatios centredRatios;
  private final FeatureGram gram;
  /** The max-median ratios' per-row work arrays, shared by both (rebuilt after deserialisation). */
  private transient double[][] ratioWork;

  /** The feature Gram's kernel in this JVM, for benchmarks and logs: "VectorGram" (SIMD) or "ScalarGram". */
  public static String gramKernel() {
    return FeatureGram.kernel();
  }

  /** Every statistic LayerStats computes, or all but those that need the feature Gram. */
  public LayerStats(int d, boolean gram) {
    this(d, Statistic.layerStatistics(gram));
  }

  /** The statistics {@code stats}, each one that LayerStats computes ({@link Statistic#layerStats()}). */
  public LayerStats(int d, Set<Statistic> stats) {
    Set<Requirement> needs = EnumSet.noneOf(Requirement.class);
    for (Statistic s : stats) {
      if (!s.layerStats()) {
        throw new IllegalArgumentException(s.metric() + " is not computed from a layer's rows alone; it needs "
            + s.needs());
      }
      needs.addAll(s.needs());
    }
    this.d = d;
    this.stats = stats.isEmpty() ? EnumSet.noneOf(Statistic.class) : EnumSet.copyOf(stats);
    moments = needs.contains(Requirement.NEURON_MOMENTS) ? new NeuronMoments(d) : null;
    centred = needs.contains(Requirement.WIDTH_CENTRED_MOMENTS) ? new WidthCentredMoments(d) : null;
    ratios = needs.contains(Requirement.MAX_MEDIAN_RATIOS) ? new MaxMedianRatios() : null;
    centredRatios = needs.contains(Requirement.WIDTH_CENTRED_MAX_MEDIAN_RATIOS) ? new MaxMedianRatios() : null;
    gram = needs.contains(Requirement.FEATURE_GRAM) ? new FeatureGram(d) : null;
  }

  /** The accumulator groups allocated. */
  Set<Requirement> accumulators() {
    Set<Requirement> out = EnumSet.noneOf(Requirement.class);
    if (moments != null) {
      out.add(Requirement.NEURON_MOMENTS);
    }
    if (centred != null) {
      out.add(Requirement.WIDTH_CENTRED_MOMENTS);
    }
    if (ratios != null) {
      out.add(Requirement.MAX_MEDIAN_RATIOS);
    }
    if (centredRatios != null) {
      out.add(Requirement.WIDTH_CENTRED_MAX_MEDIAN_RATIOS);
    }
    if (gram != null) {
      out.add(Requirement.FEATURE_GRAM);
    }
    return out;
  }

  public void add(float[] row) {
    if (row.length != d) {
      throw new IllegalArgumentException("row of " + row.length + " values in a layer of width " + d);
    }
    n++;
    if (ratioWork == null && (ratios != null || centredRatios != null)) {
      ratioWork = new double[3][d];
    }
    double rowSum = moments != null ? moments.add(row) : NeuronMoments.rowSum(row);
    if (centred != null || centredRatios != null) {
      double rowMean = rowSum / d;
      if (centred != null) {
        centred.add(row, rowMean);
      }
      if (centredRatios != null) {
        centredRatios.add(row, rowMean, ratioWork);
      }
    }
    if (ratios != null) {
      ratios.add(row, 0, ratioWork);
    }
    if (gram != null) {
      gram.add(row);
    }
  }

  public LayerStats merge(LayerStats o) {
    if (o.d != d || !o.stats.equals(stats)) {
      throw new IllegalArgumentException("cannot merge statistics of different shapes or selections");
    }
    n += o.n;
    if (moments != null) {
      moments.merge(o.moments);
    }
    if (centred != null) {
      centred.merge(o.centred);
    }
    if (ratios != null) {
      ratios.merge(o.ratios);
    }
    if (centredRatios != null) {
      centredRatios.merge(o.centredRatios);
    }
    if (gram != null) {
      gram.merge(o.gram);
    }
    return this;
  }

  public long rows() {
    return n;
  }

  /** The selected statistics by metric name, in {@link Statistic}'s order; their formulas are Statistic's. */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    Values values = new Values();
    for (Statistic s : stats) {
      m.put(s.metric(), values.of(s));
    }
    return m;
  }

  /** The statistics from the accumulators, with the Gram's sums of squares computed once. */
  private final class Values {
    private double[] gramSquares;
    private double[] centredGramSquares;

    double of(Statistic s) {
      return switch (s) {
        case KURTOSIS -> eq1(perNeuron(moments.sumSquares, meanSquare())); // m_j: mean over j is 1 by construction
        case KURTOSIS_RELEASED_CODE -> unbiasedVariance(perNeuron(centred.sumSquares, releasedCodeScale()));
        case KURTOSIS_NEURON_CENTRED -> eq1(moments.variances(n));
        case KURTOSIS_WIDTH_CENTRED -> eq1(centred.sumSquares);
        case MMR_MEAN -> ratios.mean();
        case MMR_MEDIAN -> ratios.median();
        case MMR_MAX -> ratios.max();
        case MMR_MEAN_WIDTH_CENTRED -> centredRatios.mean();
        case MMR_MEDIAN_WIDTH_CENTRED -> centredRatios.median();
        case MMR_MAX_WIDTH_CENTRED -> centredRatios.max();
        case ACT_RMS -> Math.sqrt(meanSquare());
        case ACT_RMS_WIDTH_CENTRED -> Math.sqrt(centredMeanSquare());
        case TOKENS -> n;
        case SIGNAL_PROP_MEAN -> signalPropMean(moments.sum, moments.norm2, meanSquare());
        case SIGNAL_PROP_MEAN_WIDTH_CENTRED -> signalPropMean(centredSum(), centredNorm2(), centredMeanSquare());
        case GRAM_DIAG_SQ -> gramSquares()[0] / square(meanSquare());
        case GRAM_OFFDIAG_SQ -> gramSquares()[1] / square(meanSquare());
        case SIGNAL_PROP_RMS -> signalPropRms(gramSquares(), moments.norm4, meanSquare());
        case FEAT_CORR_RMS -> featCorrRms(gramSquares()[1], meanSquare());
        case SIGNAL_PROP_RMS_WIDTH_CENTRED -> signalPropRms(centredGramSquares(), centred.norm4, centredMeanSquare());
        case FEAT_CORR_RMS_WIDTH_CENTRED -> featCorrRms(centredGramSquares()[1], centredMeanSquare());
        default -> throw new IllegalStateException(s + " is not a layer statistic"); // the constructor admits none
      };
    }

    /** r² = Σ_i ‖x_i‖² / (N·d). */
    private double meanSquare() {
      return moments.norm2 / ((double) n * d);
    }

    /** Σ_i ‖x_c,i‖². */
    private double centredNorm2() {
      return Arrays.stream(centred.sumSquares).sum();
    }

    /** r_c². */
    private double centredMeanSquare() {
      return centredNorm2() / ((double) n * d);
    }

    /** (r_c + 1e-8)², the released code's. */
    private double releasedCodeScale() {
      return square(Math.sqrt(centredMeanSquare()) + RELEASED_CODE_RMS_EPS);
    }

    /** Σ_i x_c,i = Σ_i x_i − (Σ_i mean_j x_ij)·1. */
    private double[] centredSum() {
      double[] centredSum = new double[d];
      for (int j = 0; j < d; j++) {
        centredSum[j] = moments.sum[j] - centred.rowMeanSum;
      }
      return centredSum;
    }

    private double[] gramSquares() {
      if (gramSquares == null) {
        gramSquares = gram.squares(new double[d], 0);
      }
      return gramSquares;
    }

    private double[] centredGramSquares() {
      if (centredGramSquares == null) {
        double[] rowMeans = gram.rowMeans();
        centredGramSquares = gram.squares(rowMeans, mean(rowMeans));
      }
      return centredGramSquares;
    }
  }

  /** Each neuron's sum over the rows, divided by N and by {@code scale}. */
  private double[] perNeuron(double[] sums, double scale) {
    double[] out = new double[d];
    for (int j = 0; j < d; j++) {
      out[j] = sums[j] / n / scale;
    }
    return out;
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
}
