package org.outlierlab.jobs.grid;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One point of a grid: the value it gives each axis's key, in axis order, and the run it trains. Its run id is the
 * grid's name and one readable part per axis ({@code blocks-op-lr1e-3}); its label, the runs table's point
 * column, is {@code key=value} pairs joined by {@code ", "} (Spark SQL: {@code str_to_map(point, ', ', '=')}).
 */
record GridPoint(int index, String runId, Map<String, ConfigValue> values) {
  GridPoint {
    values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  static GridPoint of(int index, String grid, Map<String, ConfigValue> values) {
    List<String> parts = new ArrayList<>(List.of(grid));
    values.forEach((key, value) -> parts.add(runIdPart(key, value)));
    return new GridPoint(index, String.join("-", parts), values);
  }

  String label() {
    List<String> pairs = new ArrayList<>();
    values.forEach((key, value) -> pairs.add(key + "=" + text(value)));
    return String.join(", ", pairs);
  }

  /** {@code base} with this point's values, its run id and its grid columns. */
  Config apply(Config base, String grid) {
    Config config = base;
    for (Map.Entry<String, ConfigValue> e : values.entrySet()) {
      config = config.withValue(e.getKey(), e.getValue());
    }
    return config.withValue("train.run_id", ConfigValueFactory.fromAnyRef(runId))
        .withValue("train.grid", ConfigValueFactory.fromAnyRef(grid))
        .withValue("train.point", ConfigValueFactory.fromAnyRef(label()));
  }

  /**
   * A value's part of the run id: a string as it is (a block, an optimiser); a number after the key's last
   * segment ({@code lr1e-3}, {@code seed0}); a boolean as the key's last segment, or {@code no_} and it.
   */
  static String runIdPart(String key, ConfigValue value) {
    String name = key.substring(key.lastIndexOf('.') + 1);
    String part = switch (value.valueType()) {
      case STRING -> text(value);
      case BOOLEAN -> Boolean.TRUE.equals(value.unwrapped()) ? name : "no_" + name;
      default -> name + text(value);
    };
    return part.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** A value as a reader would write it: numbers in the shortest form, small and large ones as {@code 3e-4}. */
  static String text(ConfigValue value) {
    if (value.valueType() != ConfigValueType.NUMBER) {
      return String.valueOf(value.unwrapped());
    }
    BigDecimal number = new BigDecimal(value.unwrapped().toString()).stripTrailingZeros();
    if (number.signum() == 0) {
      return "0";
    }
    int exponent = number.precision() - number.scale() - 1; // of the leading digit
    if (exponent >= -2 && exponent < 6) {
      return number.toPlainString();
    }
    return number.movePointLeft(exponent).toPlainString() + "e" + exponent;
  }
}
