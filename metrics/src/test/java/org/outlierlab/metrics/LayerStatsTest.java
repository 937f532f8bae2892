package org.outlierlab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every statistic against closed forms (SCIENCE.md §1.7) and a brute-force recomputation on the same data. */
class LayerStatsTest {
  static float[][] data(int n, int d, long seed) {
    Random r = new Random(seed);
    float[][] x = new float[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        x[i][j] = (float) (r.nextGaussian() * (j == 2 ? 8 : 1) + (j == 4 ? 0.5 : 0)); // an outlier neuron, a shifted one
      }
    }
    return x;
  }

  static LayerStats stats(float[][] x, boolean gram) {
    LayerStats s = new LayerStats(x[0].length, gram);
    for (float[] row : x) {
      s.add(row);
    }
    return s;
  }

  static void close(double expected, double actual, String name) {
    assertEquals(expected, actual, 1e-9 * Math.max(1, Math.abs(expected)), name);
  }

  /** The rows as doubles, each centred across the width: x_ij − mean_k x_ik, written out. */
  static double[][] widthCentred(float[][] x) {
    double[][] c = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double rowMean = 0;
      for (float v : x[i]) {
        rowMean += v / (double) x[i].length;
      }
      c[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        c[i][j] = x[i][j] - rowMean;
      }
    }
    return c;
  }

  static double[][] asDoubles(float[][] x) {
    double[][] c = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      c[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        c[i][j] = x[i][j];
      }
    }
    return c;
  }

  /**
   * The statistics that a matrix determines on its own, each computed the long way: Z = X / r, the per-neuron
   * mean squares, every row's sorted |x|, and the N×N input Gram ZZᵀ/d and d×d feature Gram ZᵀZ written out.
   * Applied to an explicitly centred matrix it gives the width-centred metrics.
   */
  static Map<String, Double> bruteForce(double[][] x) {
    int n = x.length;
    int d = x[0].length;
    double r2 = 0;
    for (double[] row : x) {
      for (double v : row) {
        r2 += v * v;
      }
    }
    r2 /= n * d;
    double[][] z = new double[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        z[i][j] = x[i][j] / Math.sqrt(r2);
      }
    }
    double[] mj = new double[d];
    for (int j = 0; j < d; j++) {
      for (int i = 0; i < n; i++) {
        mj[j] += z[i][j] * z[i][j] / n;
      }
    }
    close(1.0, Arrays.stream(mj).average().orElseThrow(), "mean of m_j is 1");
    double[] mmr = new double[n];
    for (int i = 0; i < n; i++) {
      double[] a = Arrays.stream(x[i]).map(Math::abs).sorted().toArray();
      mmr[i] = a[d - 1] / a[(d - 1) / 2];
    }
    double[] sortedMmr = mmr.clone();
    Arrays.sort(sortedMmr);
    double off = 0;
    double offSq = 0;
    double inputFrob = 0;
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        double g = 0;
        for (int j = 0; j < d; j++) {
          g += z[i][j] * z[k][j];
        }
        inputFrob += g * g;
        if (i != k) {
          off += g / d;
          offSq += (g / d) * (g / d);
        }
      }
    }
    double diag = 0;
    double offDiag = 0;
    for (int j = 0; j < d; j++) {
      for (int k = 0; k < d; k++) {
        double f = 0;
        for (int i = 0; i < n; i++) {
          f += z[i][j] * z[i][k];
        }
        if (j == k) {
          diag += f * f;
        } else {
          offDiag += f * f;
        }
      }
    }
    close(inputFrob, diag + offDiag, "Eq 4: |ZZ^T|_F^2 = |Z^T Z|_F^2");
    return Map.of(
        "kurtosis", Arrays.stream(mj).map(v -> v * v).average().orElseThrow(),
        "mmr_mean", Arrays.stream(mmr).average().orElseThrow(),
        "mmr_median", sortedMmr[(n - 1) / 2],
        "mmr_max", sortedMmr[n - 1],
        "act_rms", Math.sqrt(r2),
        "signal_prop_mean", off / (n * (n - 1.0)),
        "signal_prop_rms", Math.sqrt(offSq / (n * (n - 1.0))),
        "feat_corr_rms", Math.sqrt(offDiag / ((double) n * n) / (d * (d - 1.0))),
        "gram_diag_sq", diag,
        "gram_offdiag_sq", offDiag);
  }

  @Test
  void everyStatisticMatchesABruteForceRecomputation() {
    int n = 37;
    int d = 6;
    float[][] x = data(n, d, 1);
    Map<String, Double> m = stats(x, true).metrics();
    bruteForce(asDoubles(x)).forEach((name, expected) -> close(expected, m.get(name), name));
    close((double) n * n * d * m.get("kurtosis"), m.get("gram_diag_sq"), "Eq 5: the diagonal term is N^2 d Kurt");
    double[] var = new double[d];
    for (int j = 0; j < d; j++) {
      double s = 0;
      double s2 = 0;
      for (int i = 0; i < n; i++) {
        s += x[i][j];
        s2 += (double) x[i][j] * x[i][j];
      }
      var[j] = s2 / n - (s / n) * (s / n);
    }
    double meanVar = Arrays.stream(var).average().orElseThrow();
    close(Arrays.stream(var).map(v -> v * v).average().orElseThrow() / (meanVar * meanVar),
        m.get("kurtosis_neuron_centred"), "kurtosis_neuron_centred");
  }

  @Test
  void everyWidthCentredStatisticIsTheBruteForceOneOfTheExplicitlyCentredMatrix() {
    float[][] x = data(37, 6, 3);
    Map<String, Double> m = stats(x, true).metrics();
    Map<String, Double> centred = bruteForce(widthCentred(x));
    for (String name : new String[] {"kurtosis", "mmr_mean", "mmr_median", "mmr_max", "act_rms", "signal_prop_mean",
        "signal_prop_rms", "feat_corr_rms"}) {
      close(centred.get(name), m.get(name + "_width_centred"), name + "_width_centred");
    }
  }

  /** The released code's steps: centre, r = RMS + 1e-8, Z = X_c / r, the feature Gram's diagonal, its var(). */
  @Test
  void theReleasedCodeKurtosisIsTheUnbiasedVarianceOfTheCentredRowsDiagonalWithItsEpsilon() {
    int n = 29;
    int d = 7;
    float[][] x = data(n, d, 4);
    double[][] c = widthCentred(x);
    double r2 = Arrays.stream(c).flatMapToDouble(Arrays::stream).map(v -> v * v).sum() / (n * d);
    double r = Math.sqrt(r2) + 1e-8;
    double[] diag = new double[d];
    for (double[] row : c) {
      for (int j = 0; j < d; j++) {
        diag[j] += (row[j] / r) * (row[j] / r) / n;
      }
    }
    double mean = Arrays.stream(diag).average().orElseThrow();
    double variance = Arrays.stream(diag).map(v -> (v - mean) * (v - mean)).sum() / (d - 1);
    Map<String, Double> m = stats(x, false).metrics();
    close(variance, m.get("kurtosis_released_code"), "kurtosis_released_code");
    // Without the 1e-8 it would be (Kurt_c − 1)·d/(d − 1) exactly; the epsilon moves it by about 4e-8 / r.
    assertEquals((m.get("kurtosis_width_centred") - 1) * d / (d - 1), m.get("kurtosis_released_code"), 1e-7);
  }

  @Test
  void aCommonOffsetAcrossTheWidthChangesOnlyTheUncentredStatistics() {
    int n = 40;
    int d = 9;
    float[][] x = data(n, d, 6);
    float[][] shifted = new float[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        x[i][j] = Math.round(x[i][j] * 256) / 256f; // so that x + 100 is exact in float32
        shifted[i][j] = x[i][j] + 100;
      }
    }
    Map<String, Double> plain = stats(x, true).metrics();
    Map<String, Double> offset = stats(shifted, true).metrics();
    for (String name : plain.keySet()) {
      if (name.endsWith("_width_centred") || name.equals("kurtosis_released_code")) {
        close(plain.get(name), offset.get(name), name);
      }
    }
    for (String name : new String[] {"kurtosis", "mmr_mean", "mmr_median", "mmr_max", "act_rms", "signal_prop_mean",
        "signal_prop_rms", "feat_corr_rms"}) {
      double a = plain.get(name);
      double b = offset.get(name);
      assertTrue(Math.abs(a - b) > 0.01 * Math.abs(a), name + ": " + a + " vs " + b + " with the offset");
    }
  }

  @Test
  void mergingPartsInAnyOrderEqualsAddingEverything() throws Exception {
    float[][] x = data(50, 8, 2);
    Map<String, Double> whole = stats(x, true).metrics();
    LayerStats a = stats(Arrays.copyOfRange(x, 0, 13), true);
    LayerStats b = roundTrip(stats(Arrays.copyOfRange(x, 13, 25), true));
    b.add(x[25]); // after deserialisation, a partial result still takes rows
    LayerStats c = stats(Arrays.copyOfRange(x, 26, 50), true);
    Map<String, Double> merged = c.merge(a.merge(b)).metrics();
    List<float[]> shuffled = new ArrayList<>(Arrays.asList(x));
    Collections.shuffle(shuffled, new Random(3));
    Map<String, Double> reordered = stats(shuffled.toArray(new float[0][]), true).metrics();
    assertEquals(whole.keySet(), merged.keySet());
    whole.forEach((k, v) -> {
      assertEquals(v, merged.get(k), 1e-12 * Math.max(1, Math.abs(v)), k + ", merged");
      assertEquals(v, reordered.get(k), 1e-12 * Math.max(1, Math.abs(v)), k + ", rows shuffled");
    });
  }

  static LayerStats roundTrip(LayerStats s) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(s);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (LayerStats) in.readObject();
    }
  }

  @Test
  void oneDominantNeuronGivesKurtosisD() {
    int d = 16;
    float[][] x = new float[20][d];
    for (int i = 0; i < 20; i++) {
      x[i][3] = 1 + i;
    }
    close(d, stats(x, false).metrics().get("kurtosis"), "one neuron: Kurt = d");
    float[][] equal = new float[5][d];
    for (float[] row : equal) {
      Arrays.fill(row, -2f);
    }
    close(1.0, stats(equal, false).metrics().get("kurtosis"), "equal neurons: Kurt = 1");
  }

  @Test
  void uniformlyCorrelatedGaussiansFollowPropE1() {
    int n = 8;
    int d = 40000;
    for (double rho : new double[] {0.0, 0.5, 0.9, 1.0}) {
      Random r = new Random(7);
      double[] shared = new double[d];
      for (int j = 0; j < d; j++) {
        shared[j] = r.nextGaussian();
      }
      LayerStats s = new LayerStats(d, false);
      for (int i = 0; i < n; i++) {
        float[] row = new float[d];
        for (int j = 0; j < d; j++) {
          row[j] = (float) (Math.sqrt(rho) * shared[j] + Math.sqrt(1 - rho) * r.nextGaussian());
        }
        s.add(row);
      }
      double expected = 1 + 2 * (1 - rho * rho) / n + 2 * rho * rho;
      assertEquals(expected, s.metrics().get("kurtosis"), 0.04 * expected, "rho = " + rho);
    }
  }

  /** {mean, RMS} of x_i·x_j / (d·r²) over ordered pairs i ≠ j of the same sequence of t rows, written out. */
  static double[] sameSequencePairs(double[][] x, int t, double r) {
    int d = x[0].length;
    double sum = 0;
    double sumSq = 0;
    long pairs = 0;
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x.length; j++) {
        if (i != j && i / t == j / t) {
          double g = 0;
          for (int k = 0; k < d; k++) {
            g += x[i][k] * x[j][k];
          }
          g /= d * r * r;
          sum += g;
          sumSq += g * g;
          pairs++;
        }
      }
    }
    return new double[] {sum / pairs, Math.sqrt(sumSq / pairs)};
  }

  @Test
  void withinSequencePairsMatchBruteForceAndEqualThePooledValueForOneSequence() {
    int t = 7;
    int d = 5;
    float[][] x = data(3 * t, d, 11);
    for (int i = 0; i < x.length; i++) {
      x[i][0] += i % 4; // rows whose means differ, so that centring matters
    }
    Map<String, Double> all = stats(x, true).metrics();
    SequencePairs merged = SequencePairs.of(Arrays.asList(x).subList(0, t))
        .merge(SequencePairs.of(Arrays.asList(x).subList(t, 2 * t)))
        .merge(SequencePairs.of(Arrays.asList(x).subList(2 * t, 3 * t)));
    assertEquals(3L * t * (t - 1), merged.pairs());
    double r = all.get("act_rms");
    double[] raw = sameSequencePairs(asDoubles(x), t, r);
    close(raw[0], merged.mean(r), "signal_prop_mean_seq");
    close(raw[1], merged.rms(r), "signal_prop_rms_seq");
    double rc = all.get("act_rms_width_centred");
    double[] centred = sameSequencePairs(widthCentred(x), t, rc);
    close(centred[0], merged.meanWidthCentred(rc), "signal_prop_mean_seq_width_centred");
    close(centred[1], merged.rmsWidthCentred(rc), "signal_prop_rms_seq_width_centred");
    // a single sequence: the within-sequence statistics are the pooled ones
    float[][] one = Arrays.copyOf(x, t);
    Map<String, Double> pooled = stats(one, true).metrics();
    SequencePairs single = SequencePairs.of(Arrays.asList(one));
    double r1 = pooled.get("act_rms");
    double rc1 = pooled.get("act_rms_width_centred");
    close(pooled.get("signal_prop_mean"), single.mean(r1), "one sequence, mean");
    close(pooled.get("signal_prop_rms"), single.rms(r1), "one sequence, rms");
    close(pooled.get("signal_prop_mean_width_centred"), single.meanWidthCentred(rc1), "one sequence, centred mean");
    close(pooled.get("signal_prop_rms_width_centred"), single.rmsWidthCentred(rc1), "one sequence, centred rms");
  }

  @Test
  void selectFindsTheKthSmallestAlsoAmongRepeatedValues() {
    Random r = new Random(5);
    for (int trial = 0; trial < 400; trial++) {
      int n = 1 + r.nextInt(trial < 200 ? 40 : 600);
      double[] a = new double[n];
      int pattern = trial % 5;
      for (int i = 0; i < n; i++) {
        a[i] = switch (pattern) {
          case 0 -> r.nextInt(5); // many repeats
          case 1 -> i; // sorted
          case 2 -> n - i; // reversed
          case 3 -> 7; // all equal
          default -> r.nextGaussian();
        };
      }
      double[] sorted = a.clone();
      Arrays.sort(sorted);
      int k = r.nextInt(n);
      assertEquals(sorted[k], Select.kth(a.clone(), k, new double[n], new double[n]),
          "k = " + k + " of " + Arrays.toString(a));
    }
  }
}
