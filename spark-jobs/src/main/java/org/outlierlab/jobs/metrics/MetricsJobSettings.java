package org.outlierlab.jobs.metrics;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;
import org.outlierlab.metrics.Requirement;
import org.outlierlab.metrics.Statistic;
import org.outlierlab.model.run.Snapshots;

/**
 * What the metrics job runs with: the runs or warehouses to read, the snapshot sites to aggregate, the statistics
 * to compute ({@code metrics.stats}), the share of tokens kept (1: all), the warehouse that gets layer_metrics,
 * and the job's Spark.
 */
public record MetricsJobSettings(List<String> runs, List<String> sites, Set<Statistic> stats, double sampleFraction,
    String warehouse, SparkSettings spark) {
  /** The value of metrics.stats that selects every statistic. */
  public static final String ALL = "all";

  public MetricsJobSettings {
    runs = List.copyOf(runs);
    sites = List.copyOf(sites);
    if (stats.isEmpty()) {
      throw new IllegalArgumentException("no statistics selected");
    }
    stats = Collections.unmodifiableSet(EnumSet.copyOf(stats));
  }

  public static MetricsJobSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    List<String> runs = c.stringList("metrics.runs");
    List<String> sites = c.stringListOf("metrics.sites", Snapshots.SITES);
    Set<Statistic> stats = stats(c);
    double fraction = c.fraction("metrics.sample_fraction", 0, 1, true);
    if (fraction == 0) {
      throw new ConfigError("metrics.sample_fraction = 0 keeps no tokens; allowed: a fraction in (0, 1], 1 = exact");
    }
    String warehouse = c.string("metrics.warehouse");
    if (runs.isEmpty()) {
      throw new ConfigError("metrics.runs is empty; allowed: run directories or warehouses");
    }
    return new MetricsJobSettings(runs, sites, stats, fraction, warehouse, SparkSettings.read(config));
  }

  /** metrics.stats: "all", or the statistics' metric names. */
  private static Set<Statistic> stats(ConfigReader c) {
    List<String> allowed = new ArrayList<>(List.of(ALL));
    allowed.addAll(Statistic.metrics());
    List<String> names = c.stringListOf("metrics.stats", allowed);
    if (names.isEmpty()) {
      throw new ConfigError("metrics.stats is empty; allowed: " + String.join(", ", allowed));
    }
    if (names.contains(ALL)) {
      return EnumSet.allOf(Statistic.class);
    }
    Set<Statistic> stats = EnumSet.noneOf(Statistic.class);
    names.forEach(name -> stats.add(Statistic.named(name).orElseThrow()));
    return stats;
  }

  /** The statistics metrics.stats may name, with what each needs and its formula, for --help. */
  public static String statisticsHelp() {
    StringBuilder help = new StringBuilder("Statistics (metrics.stats: " + ALL + ", or a list of these; each is a"
        + " metric of layer_metrics; notation: Statistic.java):\n");
    int width = Statistic.metrics().stream().mapToInt(String::length).max().orElse(0);
    for (Statistic s : Statistic.values()) {
      List<String> needs = s.needs().stream().map(Requirement::label).toList();
      help.append(String.format(Locale.ROOT, "  %-" + width + "s  %s%s\n", s.metric(), s.formula(),
          needs.isEmpty() ? "" : " [" + String.join(", ", needs) + "]"));
    }
    help.append("What they need:\n");
    for (Requirement r : Requirement.values()) {
      help.append("  ").append(r.label()).append(": ").append(r.description()).append('\n');
    }
    return help.toString();
  }

  /** Where the job writes its table. */
  String table() {
    return warehouse + "/layer_metrics";
  }
}
