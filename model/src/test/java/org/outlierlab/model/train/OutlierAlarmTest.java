package org.outlierlab.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.run.Alarms;
import org.outlierlab.model.train.AlarmSettings.Rule;

/** The alarm's rules on activations made here, against brute-force values of Eq 1, Eq 2 and Sun et al.'s rule. */
class OutlierAlarmTest {
  static final int B = 2;
  static final int T = 64;
  static final int D = 64;
  static final int PROBE = 2;

  /** Gaussian activations of shape (B, T, D), std {@code scale}. */
  static float[][][] gaussian(long seed, double scale) {
    Random r = new Random(seed);
    float[][][] x = new float[B][T][D];
    for (float[][] sequence : x) {
      for (float[] token : sequence) {
        for (int j = 0; j < D; j++) {
          token[j] = (float) (scale * r.nextGaussian());
        }
      }
    }
    return x;
  }

  /** The same with neuron {@code j} multiplied by {@code factor} in every token. */
  static float[][][] planted(float[][][] x, int j, double factor) {
    for (float[][] sequence : x) {
      for (float[] token : sequence) {
        token[j] *= (float) factor;
      }
    }
    return x;
  }

  /** Layer 0's resid_attn_in, as the model names its sites. */
  static Map<String, INDArray> layer0(float[][][] x) {
    return Map.of("resid_attn_in_0", Nd4j.create(x));
  }

  static AlarmSettings settings(Set<Rule> rules, long warmup) {
    return new AlarmSettings(AlarmSettings.Action.WARN, Set.of("resid_attn_in"), rules, warmup, 10, 20, 100, 1000,
        10, 0);
  }

  static OutlierAlarm alarm(AlarmSettings s) {
    return new OutlierAlarm(s, "run-a", 2, PROBE, step -> step % 50 == 0);
  }

  static List<Alarms.Row> rows(List<OutlierAlarm.Raised> raised) {
    return raised.stream().map(OutlierAlarm.Raised::row).toList();
  }

  /** Eq 1 by its definition: the neurons' mean squares m_j, then mean(m²) / mean(m)². */
  static double kurtosis(float[][][] x) {
    double[] m = new double[D];
    for (float[][] sequence : x) {
      for (float[] token : sequence) {
        for (int j = 0; j < D; j++) {
          m[j] += (double) token[j] * token[j];
        }
      }
    }
    double mean = Arrays.stream(m).average().orElseThrow();
    return Arrays.stream(m).map(v -> v * v).average().orElseThrow() / (mean * mean);
  }

  /** Eq 2 by sorting: per token max |x| / the lower middle |x|, averaged over the tokens. */
  static double maxMedianRatio(float[][][] x) {
    double sum = 0;
    for (float[][] sequence : x) {
      for (float[] token : sequence) {
        double[] abs = sortedAbs(token);
        sum += abs[D - 1] / abs[(D - 1) / 2];
      }
    }
    return sum / (B * T);
  }

  static double[] sortedAbs(float[] values) {
    double[] abs = new double[values.length];
    for (int j = 0; j < values.length; j++) {
      abs[j] = Math.abs(values[j]);
    }
    Arrays.sort(abs);
    return abs;
  }

  @Test
  void aPlantedOutlierNeuronRaisesKurtosisAndMaxMedianRatioWithTheirBruteForceValues() {
    float[][][] x = planted(gaussian(1, 1), 5, 100);
    List<Alarms.Row> raised = rows(alarm(settings(EnumSet.of(Rule.KURTOSIS, Rule.MAX_MEDIAN_RATIO), 0))
        .check(100, layer0(x)));
    assertEquals(List.of("kurtosis", "max_median_ratio"), raised.stream().map(Alarms.Row::rule).toList());
    Alarms.Row k = raised.get(0);
    assertEquals(List.of("run-a", 100L, 0, "resid_attn_in", 10.0, "warn"),
        List.of(k.runId(), k.step(), k.layer(), k.site(), k.threshold(), k.action()));
    assertEquals(kurtosis(x), k.value(), 1e-9 * kurtosis(x));
    assertTrue(k.value() > 0.9 * D, "one neuron carries nearly everything: close to d, " + k.value());
    assertEquals(maxMedianRatio(x), raised.get(1).value(), 1e-9 * maxMedianRatio(x));
    assertEquals(20.0, raised.get(1).threshold());
  }

  @Test
  void aGaussianBatchRaisesNoRule() {
    OutlierAlarm alarm = alarm(settings(EnumSet.allOf(Rule.class), 0));
    assertEquals(List.of(), alarm.check(0, layer0(gaussian(2, 1))));
    assertEquals(List.of(), alarm.check(100, layer0(gaussian(3, 30))), "the scale alone is no outlier");
  }

  @Test
  void aMassiveActivationNeedsBothItsMagnitudeAndItsRatioToTheMedian() {
    AlarmSettings massive = settings(EnumSet.of(Rule.MASSIVE_ACTIVATION), 0);
    float[][][] large = gaussian(4, 50); // median |a| about 34: 1000 times it is far above 200
    large[1][7][3] = 200;
    assertEquals(List.of(), alarm(massive).check(100, layer0(large)), "|a| > 100 alone");
    float[][][] tiny = gaussian(5, 1e-3); // median |a| about 7e-4: 50 is 70000 times it
    tiny[0][3][9] = -50;
    assertEquals(List.of(), alarm(massive).check(100, layer0(tiny)), "the ratio alone");
    float[][][] both = gaussian(6, 0.1);
    both[0][3][9] = -150;
    List<Alarms.Row> raised = rows(alarm(massive).check(100, layer0(both)));
    assertEquals(1, raised.size());
    double median = sortedAbs(flatten(both))[(B * T * D - 1) / 2];
    assertEquals(List.of("massive_activation", 150.0, Math.max(100, 1000 * median)),
        List.of(raised.get(0).rule(), raised.get(0).value(), raised.get(0).threshold()));
  }

  static float[] flatten(float[][][] x) {
    float[] out = new float[B * T * D];
    int k = 0;
    for (float[][] sequence : x) {
      for (float[] token : sequence) {
        System.arraycopy(token, 0, out, k, D);
        k += D;
      }
    }
    return out;
  }

  @Test
  void noRuleIsCheckedBeforeTheWarmUpEnds() {
    OutlierAlarm alarm = alarm(settings(EnumSet.of(Rule.KURTOSIS), 100));
    float[][][] x = planted(gaussian(7, 1), 5, 100);
    assertEquals(List.of(), alarm.check(50, layer0(x)));
    assertEquals(1, alarm.check(100, layer0(x)).size());
  }

  @Test
  void growthIsTheKurtosisOverItsValueAtTheReferenceSnapshotAndCheckpointsCarryIt() {
    // reference step 40: the first snapshot at or after it (step 50) is the reference, taken during the warm-up
    AlarmSettings s = new AlarmSettings(AlarmSettings.Action.STOP, Set.of("resid_attn_in"), EnumSet.of(Rule.GROWTH),
        100, 10, 20, 100, 1000, 1.5, 40);
    OutlierAlarm alarm = alarm(s);
    float[][][] early = gaussian(8, 1);
    float[][][] grown = planted(gaussian(9, 1), 5, 3);
    assertEquals(List.of(), alarm.check(0, layer0(planted(gaussian(10, 1), 5, 100))), "before the reference step");
    assertEquals(List.of(), alarm.check(50, layer0(early)), "the reference, in the warm-up");
    List<Alarms.Row> raised = rows(alarm.check(100, layer0(grown)));
    assertEquals(1, raised.size());
    assertEquals(List.of("growth", 1.5, "stop"),
        List.of(raised.get(0).rule(), raised.get(0).threshold(), raised.get(0).action()));
    double ratio = kurtosis(grown) / kurtosis(early);
    assertEquals(ratio, raised.get(0).value(), 1e-9 * ratio);
    assertEquals(List.of(), alarm.check(150, layer0(early)), "no growth since the reference");

    OutlierAlarm resumed = alarm(s);
    assertNull(resumed.resume(100, alarm.references()));
    assertEquals(raised, rows(resumed.check(100, layer0(grown))), "the reference came with the checkpoint");
    OutlierAlarm withoutReference = alarm(s);
    String line = withoutReference.resume(100, Map.of("seed", "0"));
    assertTrue(line.contains("step 50") && line.contains("checkpoint at step 100"), line);
    assertEquals(List.of(), withoutReference.check(100, layer0(grown)), "no reference: no growth rule");
    assertNull(alarm(s).resume(50, Map.of()), "the reference snapshot is still to come");
  }

  @Test
  void offChecksNothingAndOnlyTheChosenSitesAreChecked() {
    float[][][] x = planted(gaussian(11, 1), 5, 100);
    assertEquals(List.of(), alarm(settings(EnumSet.allOf(Rule.class), 0).withAction(AlarmSettings.Action.OFF))
        .check(100, layer0(x)));
    assertEquals(List.of(), alarm(settings(EnumSet.allOf(Rule.class), 0))
        .check(100, Map.of("resid_mlp_in_0", Nd4j.create(x))));
    List<Alarms.Row> unembed = rows(new OutlierAlarm(new AlarmSettings(AlarmSettings.Action.WARN, Set.of("unembed_in"),
        EnumSet.of(Rule.KURTOSIS), 0, 10, 20, 100, 1000, 10, 0), "run-a", 2, PROBE, step -> true)
        .check(100, Map.of("unembed_in", Nd4j.create(x))));
    assertEquals(List.of(2), unembed.stream().map(Alarms.Row::layer).toList(), "unembed_in's layer is n_layers");
  }
}
