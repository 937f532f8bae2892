package org.outlierlab.jobs.grid;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.metrics.MetricsJobSettings;
import org.outlierlab.jobs.quant.QuantEvalSettings;
import org.outlierlab.jobs.train.TrainJobSettings;

/**
 * What the grid job runs: every point of the axes crossed (the first axis outermost), each point's train settings
 * (read, so validated, before any run starts), and the metrics and quant-eval passes over the grid's runs.
 */
public record GridSettings(String name, List<GridPoint> points, List<TrainJobSettings> train, boolean dryRun,
    boolean metrics, boolean quantEval, String warehouse, Config config) {
  public static final String SECTION = "grid";
  /** Keys the grid sets itself, so no axis may. */
  private static final Set<String> OWN_KEYS = Set.of("train.run_id", "train.resume", "train.grid", "train.point",
      "train.warehouse");

  public GridSettings {
    points = List.copyOf(points);
    train = List.copyOf(train);
  }

  public static GridSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    String name = c.string("grid.name");
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new ConfigError("grid.name = '" + name + "': allowed: letters, digits, '.', '_' and '-', starting with a"
          + " letter or digit (it begins every run id of the grid)");
    }
    if (!c.string("train.run_id").isEmpty()) {
      throw new ConfigError("train.run_id = '" + c.string("train.run_id") + "' is set, but a grid names its runs"
          + " itself (grid.name and the point); remove it from the grid's configuration");
    }
    List<GridPoint> points = cross(name, axes(config));
    Set<String> ids = new HashSet<>();
    List<TrainJobSettings> train = new ArrayList<>();
    for (GridPoint p : points) {
      if (!ids.add(p.runId())) {
        throw new ConfigError("grid.axes: two points would share the run id " + p.runId() + "; give the values of"
            + " an axis names that differ after replacing characters outside [A-Za-z0-9._-]");
      }
      try {
        train.add(TrainJobSettings.read(p.apply(config, name)));
      } catch (ConfigError e) {
        throw new ConfigError("grid point " + p.label() + ": " + e.getMessage());
      }
    }
    String warehouse = c.string("train.warehouse");
    boolean metrics = c.bool("grid.metrics");
    boolean quantEval = c.bool("grid.quant_eval");
    Config tables = tablesConfig(config, List.of(warehouse), warehouse);
    if (metrics) {
      MetricsJobSettings.read(tables); // validated now, run once the points are trained
    }
    if (quantEval) {
      QuantEvalSettings.read(tables);
    }
    return new GridSettings(name, points, train, c.bool("grid.dry_run"), metrics, quantEval, warehouse, config);
  }

  /** The metrics and quant settings for {@code runs}, writing their tables to the grid's warehouse. */
  static Config tablesConfig(Config config, List<String> runs, String warehouse) {
    Config out = config;
    for (String section : List.of("metrics", "quant")) {
      out = out.withValue(section + ".runs", ConfigValueFactory.fromIterable(runs))
          .withValue(section + ".warehouse", ConfigValueFactory.fromAnyRef(warehouse));
    }
    return out;
  }

  /** grid.axes: a list of {key, values}, each key a model.* or train.* key, each value a number, string or boolean. */
  private static List<Map.Entry<String, List<ConfigValue>>> axes(Config config) {
    List<? extends Config> axes;
    try {
      axes = config.getConfigList("grid.axes");
    } catch (ConfigException e) {
      throw new ConfigError("grid.axes: " + e.getMessage() + "; allowed: a list of { key = model.block, values ="
          + " [pre-ln, op] } entries");
    }
    if (axes.isEmpty()) {
      throw new ConfigError("grid.axes is empty; allowed: a list of { key = <model.* or train.* key>, values ="
          + " [...] } entries, e.g. { key = model.block, values = [pre-ln, op] }");
    }
    List<Map.Entry<String, List<ConfigValue>>> out = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (Config axis : axes) {
      String key = axisKey(axis, config);
      if (seen.put(key, out.size()) != null) {
        throw new ConfigError("grid.axes: " + key + " is crossed twice; give each key one axis");
      }
      out.add(Map.entry(key, axisValues(axis, key)));
    }
    return out;
  }

  private static String axisKey(Config axis, Config config) {
    if (!axis.hasPath("key") || axis.getValue("key").valueType() != ConfigValueType.STRING) {
      throw new ConfigError("grid.axes: an axis without a key (" + axis.root().render() + "); allowed: { key ="
          + " <model.* or train.* key>, values = [...] }");
    }
    String key = axis.getString("key");
    boolean training = key.startsWith("model.") || key.startsWith("train.");
    if (!training || !config.hasPath(key) || OWN_KEYS.contains(key)) {
      throw new ConfigError("grid.axes: key = " + key + " is not a key an axis can cross; allowed: the model.* and"
          + " train.* keys of conf/defaults.conf except " + String.join(", ", new java.util.TreeSet<>(OWN_KEYS)));
    }
    return key;
  }

  private static List<ConfigValue> axisValues(Config axis, String key) {
    ConfigList values;
    try {
      values = axis.getList("values");
    } catch (ConfigException e) {
      throw new ConfigError("grid.axes: " + key + " has no list of values; allowed: values = [v1, v2, ...]");
    }
    if (values.isEmpty()) {
      throw new ConfigError("grid.axes: " + key + " has an empty list of values; allowed: one value or more");
    }
    Set<Object> distinct = new HashSet<>();
    for (ConfigValue v : values) {
      boolean scalar = v.valueType() == ConfigValueType.STRING || v.valueType() == ConfigValueType.NUMBER
          || v.valueType() == ConfigValueType.BOOLEAN;
      if (!scalar) {
        throw new ConfigError("grid.axes: " + key + " = " + v.render() + "; allowed: numbers, strings, booleans");
      }
      if (!distinct.add(GridPoint.text(v))) {
        throw new ConfigError("grid.axes: " + key + " lists " + GridPoint.text(v) + " twice");
      }
    }
    return values;
  }

  /** Every combination of the axes' values, the first axis varying slowest. */
  private static List<GridPoint> cross(String name, List<Map.Entry<String, List<ConfigValue>>> axes) {
    List<Map<String, ConfigValue>> combos = List.of(new LinkedHashMap<>());
    for (Map.Entry<String, List<ConfigValue>> axis : axes) {
      List<Map<String, ConfigValue>> next = new ArrayList<>();
      for (Map<String, ConfigValue> combo : combos) {
        for (ConfigValue value : axis.getValue()) {
          Map<String, ConfigValue> extended = new LinkedHashMap<>(combo);
          extended.put(axis.getKey(), value);
          next.add(extended);
        }
      }
      combos = next;
    }
    List<GridPoint> points = new ArrayList<>();
    for (int i = 0; i < combos.size(); i++) {
      points.add(GridPoint.of(i, name, combos.get(i)));
    }
    return points;
  }
}
