package org.outlierlab.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.Stdout;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;
import org.outlierlab.metrics.Statistic;

/** metrics.stats: validated before any work, every statistic by default, and --help lists the registry. */
class MetricsJobSettingsTest {
  static MetricsJobSettings read(String stats) {
    return MetricsJobSettings.read(ConfigLoader.load(List.of(), Map.of("metrics.stats", stats)));
  }

  @Test
  void theDefaultSelectsEveryStatisticAndAListSelectsThose() {
    assertEquals(EnumSet.allOf(Statistic.class), MetricsJobSettings.read(ConfigLoader.load(List.of(), Map.of())).stats());
    assertEquals(EnumSet.of(Statistic.KURTOSIS, Statistic.U2_1_CUM), read(" u2_1_cum, kurtosis ").stats());
    assertEquals(EnumSet.of(Statistic.TOKENS, Statistic.KURTOSIS, Statistic.ACT_RMS_WIDTH_CENTRED),
        MetricsJob.layerSelection(EnumSet.of(Statistic.KURTOSIS, Statistic.SIGNAL_PROP_RMS_SEQ_WIDTH_CENTRED)),
        "the within-sequence statistic's scale and the token count come along; nothing needs the Gram");
  }

  @Test
  void anUnknownOrEmptySelectionNamesTheKeyAndTheAllowedValues() {
    ConfigError e = assertThrows(ConfigError.class, () -> read("kurtosis,kurtosis_excess"));
    assertTrue(e.getMessage().startsWith("metrics.stats contains 'kurtosis_excess'"), e.getMessage());
    for (String allowed : Statistic.metrics()) {
      assertTrue(e.getMessage().contains(allowed), allowed + " in: " + e.getMessage());
    }
    assertTrue(e.getMessage().contains("allowed: all, kurtosis,"), e.getMessage());
    ConfigError empty = assertThrows(ConfigError.class, () -> read(""));
    assertTrue(empty.getMessage().startsWith("metrics.stats is empty; allowed: all,"), empty.getMessage());
  }

  @Test
  void helpListsEveryStatisticWithItsFormulaAndNeeds() throws Exception {
    String help = Stdout.capture(() -> assertEquals(0, Main.run(new String[] {"metrics", "--help"})));
    assertTrue(help.contains("stats = all"), help);
    for (Statistic s : Statistic.values()) {
      assertTrue(help.contains(s.metric() + " ") && help.contains(s.formula()), s.metric() + " in:\n" + help);
    }
    assertTrue(help.contains("feature Gram: the d×d feature Gram"), help);
  }
}
