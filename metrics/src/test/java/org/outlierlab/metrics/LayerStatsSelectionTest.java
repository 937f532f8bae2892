package org.outlierlab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A selection of statistics: the same values as the full selection, only the accumulators they need. */
class LayerStatsSelectionTest {
  static final float[][] X = LayerStatsTest.data(41, 9, 8);

  static LayerStats stats(Set<Statistic> selection) {
    LayerStats s = new LayerStats(X[0].length, selection);
    for (float[] row : X) {
      s.add(row);
    }
    return s;
  }

  @Test
  void eachStatisticAloneAndRandomSubsetsGiveTheFullSelectionsValuesExactly() {
    Map<String, Double> all = LayerStatsTest.stats(X, true).metrics();
    assertEquals(Statistic.layerStatistics(true).stream().map(Statistic::metric).toList(), List.copyOf(all.keySet()));
    for (Statistic s : Statistic.layerStatistics(true)) {
      Map<String, Double> alone = stats(EnumSet.of(s)).metrics();
      assertEquals(List.of(s.metric()), List.copyOf(alone.keySet()));
      assertEquals(all.get(s.metric()), alone.get(s.metric()), 0, s.metric());
    }
    Random r = new Random(1);
    for (int trial = 0; trial < 20; trial++) {
      List<Statistic> subset = new ArrayList<>(Statistic.layerStatistics(true));
      subset.removeIf(s -> r.nextBoolean());
      Map<String, Double> some = stats(Set.copyOf(subset)).metrics();
      assertEquals(subset.stream().map(Statistic::metric).toList(), List.copyOf(some.keySet()), "declaration order");
      some.forEach((name, v) -> assertEquals(all.get(name), v, 0, name + " in " + subset));
    }
  }

  @Test
  void onlyTheNeededAccumulatorsAreAllocated() {
    assertEquals(EnumSet.of(Requirement.NEURON_MOMENTS), stats(EnumSet.of(Statistic.KURTOSIS)).accumulators());
    assertEquals(EnumSet.of(Requirement.MAX_MEDIAN_RATIOS), stats(EnumSet.of(Statistic.MMR_MAX)).accumulators());
    assertEquals(EnumSet.noneOf(Requirement.class), stats(EnumSet.of(Statistic.TOKENS)).accumulators());
    LayerStats withoutGram = LayerStatsTest.stats(X, false);
    assertTrue(!withoutGram.accumulators().contains(Requirement.FEATURE_GRAM), withoutGram.accumulators().toString());
    assertTrue(withoutGram.metrics().keySet().stream().noneMatch(m -> Statistic.named(m).orElseThrow().needs()
        .contains(Requirement.FEATURE_GRAM)), withoutGram.metrics().toString());
    Set<Requirement> layerGroups = EnumSet.noneOf(Requirement.class);
    for (Requirement g : Requirement.values()) {
      if (g.layerStats()) {
        layerGroups.add(g);
      }
    }
    assertEquals(layerGroups, LayerStatsTest.stats(X, true).accumulators());
  }

  @Test
  void aPartialSelectionMergesAndSurvivesSerialisation() throws Exception {
    Set<Statistic> selection = EnumSet.of(Statistic.MMR_MEDIAN_WIDTH_CENTRED, Statistic.FEAT_CORR_RMS_WIDTH_CENTRED);
    LayerStats a = new LayerStats(X[0].length, selection);
    LayerStats b = new LayerStats(X[0].length, selection);
    for (int i = 0; i < X.length; i++) {
      (i < 17 ? a : b).add(X[i]);
    }
    Map<String, Double> merged = LayerStatsTest.roundTrip(a).merge(b).metrics();
    Map<String, Double> whole = stats(selection).metrics();
    whole.forEach((name, v) -> assertEquals(v, merged.get(name), 1e-12 * Math.abs(v), name));
    var e = assertThrows(IllegalArgumentException.class, () -> a.merge(stats(EnumSet.of(Statistic.KURTOSIS))));
    assertTrue(e.getMessage().contains("selections"), e.getMessage());
  }

  @Test
  void statisticsOfTheJobsOtherStagesAreRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> new LayerStats(4, EnumSet.of(Statistic.U2_1)));
    assertTrue(e.getMessage().contains("u2_1") && e.getMessage().contains("FIXED_PROBES"), e.getMessage());
  }
}
