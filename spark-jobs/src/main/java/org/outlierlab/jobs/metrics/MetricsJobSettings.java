package org.outlierlab.jobs.metrics;

import com.typesafe.config.Config;
import java.util.List;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;
import org.outlierlab.model.run.Snapshots;

/**
 * What the metrics job runs with: the runs or warehouses to read, the snapshot sites to aggregate, whether to fold
 * the feature Gram, the share of tokens kept (1: all), the warehouse that gets layer_metrics, and the job's Spark.
 */
public record MetricsJobSettings(List<String> runs, List<String> sites, boolean gram, double sampleFraction,
    String warehouse, SparkSettings spark) {
  public MetricsJobSettings {
    runs = List.copyOf(runs);
    sites = List.copyOf(sites);
  }

  public static MetricsJobSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    List<String> runs = c.stringList("metrics.runs");
    List<String> sites = c.stringListOf("metrics.sites", Snapshots.SITES);
    boolean gram = c.bool("metrics.gram");
    double fraction = c.fraction("metrics.sample_fraction", 0, 1, true);
    if (fraction == 0) {
      throw new ConfigError("metrics.sample_fraction = 0 keeps no tokens; allowed: a fraction in (0, 1], 1 = exact");
    }
    String warehouse = c.string("metrics.warehouse");
    if (runs.isEmpty()) {
      throw new ConfigError("metrics.runs is empty; allowed: run directories or warehouses");
    }
    return new MetricsJobSettings(runs, sites, gram, fraction, warehouse, SparkSettings.read(config));
  }

  /** Where the job writes its table. */
  String table() {
    return warehouse + "/layer_metrics";
  }
}
