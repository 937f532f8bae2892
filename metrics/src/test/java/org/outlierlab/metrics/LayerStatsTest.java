package org.outlierlab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every statistic against closed forms (PAPER.md §1.7) and a brute-force recomputation on the same data. */
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

  @Test
  void everyStatisticMatchesABruteForceRecomputation() {
    int n = 37;
    int d = 6;
    float[][] x = data(n, d, 1);
    Map<String, Double> m = stats(x, true).metrics();
    // Z = X / r with r the global RMS.
    double r2 = 0;
    for (float[] row : x) {
      for (float v : row) {
        r2 += (double) v * v;
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
    double[] var = new double[d];
    for (int j = 0; j < d; j++) {
      double s = 0;
      double s2 = 0;
      for (int i = 0; i < n; i++) {
        mj[j] += z[i][j] * z[i][j] / n;
        s += x[i][j];
        s2 += (double) x[i][j] * x[i][j];
      }
      var[j] = s2 / n - (s / n) * (s / n);
    }
    double meanM = Arrays.stream(mj).average().orElseThrow();
    close(1.0, meanM, "mean of m_j is 1");
    close(Arrays.stream(mj).map(v -> v * v).average().orElseThrow(), m.get("kurtosis"), "kurtosis");
    double unbiased = Arrays.stream(mj).map(v -> (v - meanM) * (v - meanM)).sum() / (d - 1);
    close(unbiased, m.get("kurt_minus_1"), "kurt_minus_1");
    close((m.get("kurtosis") - 1) * d / (d - 1), m.get("kurt_minus_1"), "kurt_minus_1 = (Kurt - 1) d/(d-1)");
    double meanVar = Arrays.stream(var).average().orElseThrow();
    close(Arrays.stream(var).map(v -> v * v).average().orElseThrow() / (meanVar * meanVar),
        m.get("kurtosis_neuron_centred"), "kurtosis_neuron_centred");
    close(Math.sqrt(r2), m.get("act_rms"), "act_rms");
    double[] widthCentred = new double[d];
    for (float[] row : x) {
      double rowMean = 0;
      for (float v : row) {
        rowMean += v / (double) d;
      }
      for (int j = 0; j < d; j++) {
        widthCentred[j] += (row[j] - rowMean) * (row[j] - rowMean) / n;
      }
    }
    double meanWc = Arrays.stream(widthCentred).average().orElseThrow();
    close(Arrays.stream(widthCentred).map(v -> v * v).average().orElseThrow() / (meanWc * meanWc),
        m.get("kurtosis_width_centred"), "kurtosis_width_centred");

    double[] mmr = new double[n];
    for (int i = 0; i < n; i++) {
      double[] a = new double[d];
      for (int j = 0; j < d; j++) {
        a[j] = Math.abs(x[i][j]);
      }
      Arrays.sort(a);
      mmr[i] = a[d - 1] / a[(d - 1) / 2];
    }
    close(Arrays.stream(mmr).average().orElseThrow(), m.get("mmr_mean"), "mmr_mean");
    close(Arrays.stream(mmr).max().orElseThrow(), m.get("mmr_max"), "mmr_max");
    double[] sortedMmr = mmr.clone();
    Arrays.sort(sortedMmr);
    close(sortedMmr[(n - 1) / 2], m.get("mmr_median"), "mmr_median");

    // The N×N input Gram G = ZZᵀ/d and the d×d feature Gram ZᵀZ, written out.
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
    close(off / (n * (n - 1.0)), m.get("signal_prop_mean"), "signal_prop_mean");
    close(Math.sqrt(offSq / (n * (n - 1.0))), m.get("signal_prop_rms"), "signal_prop_rms");
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
    close(diag, m.get("gram_diag_sq"), "gram_diag_sq");
    close(offDiag, m.get("gram_offdiag_sq"), "gram_offdiag_sq");
    close(inputFrob, diag + offDiag, "Eq 4: |ZZ^T|_F^2 = |Z^T Z|_F^2");
    close((double) n * n * d * m.get("kurtosis"), diag, "Eq 5: the diagonal term is N^2 d Kurt");
    close(Math.sqrt(offDiag / ((double) n * n) / (d * (d - 1.0))), m.get("feat_corr_rms"), "feat_corr_rms");
  }

  @Test
  void mergingPartsEqualsAddingEverything() {
    float[][] x = data(50, 8, 2);
    LayerStats whole = stats(x, true);
    LayerStats a = stats(Arrays.copyOfRange(x, 0, 13), true);
    LayerStats b = stats(Arrays.copyOfRange(x, 13, 31), true);
    LayerStats c = stats(Arrays.copyOfRange(x, 31, 50), true);
    Map<String, Double> merged = c.merge(a.merge(b)).metrics();
    whole.metrics().forEach((k, v) -> assertEquals(v, merged.get(k), 1e-12 * Math.max(1, Math.abs(v)), k));
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

  @Test
  void withinSequencePairsMatchBruteForceAndEqualThePooledValueForOneSequence() {
    int t = 7;
    int d = 5;
    float[][] x = data(3 * t, d, 11);
    LayerStats all = stats(x, true);
    double r = all.metrics().get("act_rms");
    // brute force over same-sequence pairs
    double sum = 0;
    double sumSq = 0;
    long pairs = 0;
    for (int s = 0; s < 3; s++) {
      for (int i = s * t; i < (s + 1) * t; i++) {
        for (int j = s * t; j < (s + 1) * t; j++) {
          if (i != j) {
            double g = 0;
            for (int k = 0; k < d; k++) {
              g += (double) x[i][k] * x[j][k];
            }
            g /= d * r * r;
            sum += g;
            sumSq += g * g;
            pairs++;
          }
        }
      }
    }
    SequencePairs merged = SequencePairs.of(java.util.Arrays.asList(x).subList(0, t))
        .merge(SequencePairs.of(java.util.Arrays.asList(x).subList(t, 2 * t)))
        .merge(SequencePairs.of(java.util.Arrays.asList(x).subList(2 * t, 3 * t)));
    assertEquals(pairs, merged.pairs());
    close(sum / pairs, merged.mean(r), "signal_prop_mean_seq");
    close(Math.sqrt(sumSq / pairs), merged.rms(r), "signal_prop_rms_seq");
    // a single sequence: the within-sequence statistics are the pooled ones
    float[][] one = java.util.Arrays.copyOf(x, t);
    LayerStats pooled = stats(one, true);
    double r1 = pooled.metrics().get("act_rms");
    SequencePairs single = SequencePairs.of(java.util.Arrays.asList(one));
    close(pooled.metrics().get("signal_prop_mean"), single.mean(r1), "one sequence, mean");
    close(pooled.metrics().get("signal_prop_rms"), single.rms(r1), "one sequence, rms");
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
      java.util.Arrays.sort(sorted);
      int k = r.nextInt(n);
      assertEquals(sorted[k], Select.kth(a.clone(), k, new double[n], new double[n]),
          "k = " + k + " of " + java.util.Arrays.toString(a));
    }
  }
}
