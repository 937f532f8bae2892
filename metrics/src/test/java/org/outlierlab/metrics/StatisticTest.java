package org.outlierlab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The registry: one entry a metric name, and the docs list every entry. */
class StatisticTest {
  /** The README's table of statistics, as the registry says it (a failure writes it to target/ to paste). */
  static String readmeTable() {
    StringBuilder t = new StringBuilder("| metric | needs | meaning |\n|---|---|---|\n");
    for (Statistic s : Statistic.values()) {
      String needs = s.needs().stream().map(Requirement::label).collect(Collectors.joining(", "));
      t.append("| `").append(s.metric()).append("` | ").append(needs.isEmpty() ? "–" : needs).append(" | ")
          .append(s.formula().replace("|", "\\|")).append(" |\n");
    }
    return t.toString();
  }

  @Test
  void metricNamesAreUniqueSnakeCaseAndFoundByName() {
    assertEquals(Statistic.values().length, Set.copyOf(Statistic.metrics()).size(), Statistic.metrics().toString());
    for (Statistic s : Statistic.values()) {
      assertTrue(s.metric().matches("[a-z][a-z0-9_]*"), s.metric());
      assertEquals(s, Statistic.named(s.metric()).orElseThrow());
      assertTrue(!s.formula().isBlank() && !s.formula().contains("\n"), s.metric() + ": one line");
    }
    assertTrue(Statistic.named("kurtosis_excess").isEmpty());
    assertEquals(List.of("u2_1_cum", "u2_2_cum", "u4_1_cum", "u4_2_cum", "u4_3_cum", "u4_4_cum"),
        KurtosisUpdate.TERMS.stream().map(t -> t.runningSum().metric()).toList());
  }

  @Test
  void theReadmeTableIsTheRegistrys() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    String table = readmeTable();
    if (!readme.contains(table)) {
      Files.writeString(Path.of("target", "statistics-table.md"), table);
    }
    assertTrue(readme.contains(table), "README.md's table of statistics differs from Statistic's; the registry's is "
        + "in metrics/target/statistics-table.md:\n" + table);
  }

  @Test
  void scienceMdNamesEveryStatistic() throws Exception {
    String science = Files.readString(Path.of("..", "docs", "SCIENCE.md"));
    for (Statistic s : Statistic.values()) {
      assertTrue(science.contains("`" + s.metric() + "`"), "docs/SCIENCE.md does not name `" + s.metric() + "`");
    }
  }
}
