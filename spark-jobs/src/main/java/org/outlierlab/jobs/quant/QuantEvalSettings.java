package org.outlierlab.jobs.quant;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;
import org.outlierlab.model.graph.Site;
import org.outlierlab.model.quant.Protocol;
import org.outlierlab.model.quant.Protocol.Granularity;
import org.outlierlab.model.quant.WeightRange;

/**
 * What the quant-eval job runs with, every key validated before any file is read: the runs or warehouses, the
 * checkpoint steps (empty: each run's latest), the protocols ({@code quant.protocol.<name>}), the tokens and split
 * evaluated, the batch size, how many batches, the tasks per checkpoint, the warehouse written, and the job's Spark.
 */
public record QuantEvalSettings(List<String> runs, List<Long> steps, List<Protocol> protocols, String tokens,
    String split, int batchSize, int evalBatches, int tasks, String warehouse, SparkSettings spark) {
  public static final String SECTION = "quant";

  public QuantEvalSettings {
    runs = List.copyOf(runs);
    steps = List.copyOf(steps);
    protocols = List.copyOf(protocols);
  }

  public static QuantEvalSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    List<String> runs = c.stringList("quant.runs");
    if (runs.isEmpty()) {
      throw new ConfigError("quant.runs is empty; allowed: run directories or warehouses");
    }
    List<Long> steps = c.longList("quant.steps");
    for (long step : steps) {
      if (step < 0) {
        throw new ConfigError("quant.steps contains " + step + "; allowed: checkpoint steps (whole numbers >= 0)");
      }
    }
    List<String> names = c.stringList("quant.protocols");
    if (names.isEmpty()) {
      throw new ConfigError("quant.protocols is empty; allowed: names of quant.protocol sections: "
          + protocolNames(config));
    }
    List<Protocol> protocols = new ArrayList<>();
    for (String name : names) {
      if (!config.hasPath("quant.protocol." + name) || name.contains(".")) {
        throw new ConfigError("quant.protocols names '" + name + "', which has no section quant.protocol." + name
            + "; allowed: " + protocolNames(config) + ", or a section of your own");
      }
      protocols.add(protocol(c, name));
    }
    String split = c.string("quant.split");
    if (!List.of(Splits.VALIDATION, Splits.TRAIN).contains(split)) {
      throw new ConfigError("quant.split = " + split + "; allowed: " + Splits.VALIDATION + ", " + Splits.TRAIN);
    }
    return new QuantEvalSettings(runs, steps, protocols, c.string("quant.tokens"), split,
        c.intBetween("quant.batch_size", 1, 1 << 20), c.intBetween("quant.eval_batches", 0, Integer.MAX_VALUE),
        c.intBetween("quant.tasks", 0, 1 << 16), c.string("quant.warehouse"), SparkSettings.read(config));
  }

  /** Protocol {@code name} from quant.protocol.{@code name}. */
  static Protocol protocol(ConfigReader c, String name) {
    String p = "quant.protocol." + name + ".";
    Granularity weightGranularity = granularity(c, p + "weights.granularity", Granularity.TENSOR, Granularity.CHANNEL);
    Protocol.Weights weights = new Protocol.Weights(c.intBetween(p + "weights.bits", 2, 16), weightGranularity,
        c.choice(p + "weights.range", WeightRange.Method.class));
    Granularity actGranularity = granularity(c, p + "activations.granularity", Granularity.TENSOR, Granularity.TOKEN);
    boolean symmetric = c.bool(p + "activations.symmetric");
    if (actGranularity == Granularity.TOKEN && !symmetric) {
      throw new ConfigError(p + "activations.symmetric = false with granularity = token; allowed: true (per-token "
          + "scales are dynamic and symmetric), or granularity = tensor");
    }
    int calibration = c.intBetween(p + "activations.calibration_batches", 0, 1 << 20);
    if (actGranularity == Granularity.TENSOR && calibration == 0) {
      throw new ConfigError(p + "activations.calibration_batches = 0 with granularity = tensor; allowed: 1 or "
          + "more (static ranges are calibrated)");
    }
    double momentum = c.fraction(p + "activations.momentum", 0, 1, false);
    double percentile = c.fraction(p + "activations.percentile", 50, 100, true);
    if (percentile == 50) {
      throw new ConfigError(p + "activations.percentile = 50; allowed: above 50 up to 100 (100: min and max)");
    }
    Protocol.Activations activations = new Protocol.Activations(c.intBetween(p + "activations.bits", 2, 16),
        actGranularity, symmetric, actGranularity == Granularity.TENSOR ? calibration : 0, momentum, percentile);
    List<String> weightKinds = Site.KINDS.stream().filter(k -> k.endsWith("_weight")).toList();
    List<String> actKinds = Site.KINDS.stream().filter(k -> !k.endsWith("_weight")).toList();
    return new Protocol(name, weights, activations, c.stringListOf(p + "weight_sites", weightKinds),
        c.stringListOf(p + "activation_sites", actKinds));
  }

  private static Granularity granularity(ConfigReader c, String key, Granularity... allowed) {
    String value = c.string(key);
    for (Granularity g : allowed) {
      if (g.name().toLowerCase(Locale.ROOT).equals(value)) {
        return g;
      }
    }
    throw new ConfigError(key + " = " + value + "; allowed: " + String.join(", ",
        java.util.Arrays.stream(allowed).map(g -> g.name().toLowerCase(Locale.ROOT)).toList()));
  }

  private static String protocolNames(Config config) {
    return String.join(", ", new java.util.TreeSet<>(config.getConfig("quant.protocol").root().keySet()));
  }

  /** The batches to evaluate: every full one of the split, or the first {@code evalBatches}. */
  int batchesOf(long rows) {
    long full = rows / batchSize;
    return (int) (evalBatches == 0 ? full : Math.min(full, evalBatches));
  }
}
