package org.outlierlab.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Typed, validated reads of a resolved configuration; every failure names the key and what it allows. */
public final class ConfigReader {
  private final Config config;

  public ConfigReader(Config config) {
    this.config = config;
  }

  public String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a string", e);
    }
  }

  public boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException e) {
      throw wrongType(key, "true or false", e);
    }
  }

  public long longAtLeast(String key, long min) {
    long value;
    try {
      value = config.getLong(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a whole number >= " + min, e);
    }
    if (value < min) {
      throw new ConfigError(key + " = " + value + " is out of range; allowed: a whole number >= " + min);
    }
    return value;
  }

  public int intBetween(String key, int min, int max) {
    long value = longAtLeast(key, min);
    if (value > max) {
      throw new ConfigError(key + " = " + value + " is out of range; allowed: " + min + " to " + max);
    }
    return (int) value;
  }

  /** "auto" (returned as 0) or a positive count of {@code what} ("workers", "threads"). */
  public int countOrAuto(String key, String what) {
    String value = string(key);
    if (value.equals("auto")) {
      return 0;
    }
    try {
      int n = Integer.parseInt(value);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigError(key + " = " + value + ": allowed values are auto or a positive number of " + what);
  }

  /** A number in [min, max) or, when {@code maxInclusive}, [min, max]. */
  public double fraction(String key, double min, double max, boolean maxInclusive) {
    double value;
    try {
      value = config.getDouble(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a number", e);
    }
    if (!(value >= min && (maxInclusive ? value <= max : value < max))) {
      throw new ConfigError(key + " = " + value + " is out of range; allowed: " + min + " <= value "
          + (maxInclusive ? "<= " : "< ") + max);
    }
    return value;
  }

  /** One of the enum's constants, written in lower case with '-' for '_'. */
  public <E extends Enum<E>> E choice(String key, Class<E> type) {
    String value = string(key);
    for (E constant : type.getEnumConstants()) {
      if (name(constant).equals(value)) {
        return constant;
      }
    }
    throw new ConfigError(key + " = '" + value + "' is not allowed; allowed: "
        + String.join(", ", Arrays.stream(type.getEnumConstants()).map(ConfigReader::name).toList()));
  }

  public static String name(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** true, false, or "default" (empty: use the preset's value). */
  public java.util.Optional<Boolean> boolOrDefault(String key) {
    String value = string(key);
    return switch (value) {
      case "default" -> java.util.Optional.empty();
      case "true" -> java.util.Optional.of(true);
      case "false" -> java.util.Optional.of(false);
      default -> throw new ConfigError(key + " = '" + value + "' is not allowed; allowed: true, false, default");
    };
  }

  /** A positive number, or "default" (empty). */
  public java.util.OptionalDouble positiveOrDefault(String key) {
    String value = string(key);
    if (value.equals("default")) {
      return java.util.OptionalDouble.empty();
    }
    try {
      double d = Double.parseDouble(value);
      if (d > 0 && Double.isFinite(d)) {
        return java.util.OptionalDouble.of(d);
      }
    } catch (NumberFormatException e) {
      // fall through to the error
    }
    throw new ConfigError(key + " = '" + value + "' is not allowed; allowed: a positive number, or default");
  }

  /** One of the enum's constants or "default" (empty). */
  public <E extends Enum<E>> java.util.Optional<E> choiceOrDefault(String key, Class<E> type) {
    if (string(key).equals("default")) {
      return java.util.Optional.empty();
    }
    try {
      return java.util.Optional.of(choice(key, type));
    } catch (ConfigError e) {
      throw new ConfigError(e.getMessage() + ", default");
    }
  }

  public List<Long> longList(String key) {
    try {
      return config.getLongList(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a list of whole numbers, e.g. [0, 100, 1000]", e);
    }
  }

  /** A list of strings, or one string of comma-separated items; empty items are dropped. */
  public List<String> stringList(String key) {
    List<String> items = new ArrayList<>();
    try {
      if (config.getValue(key).valueType() == ConfigValueType.LIST) {
        items.addAll(config.getStringList(key));
      } else {
        items.addAll(Arrays.asList(config.getString(key).split(",")));
      }
    } catch (ConfigException e) {
      throw wrongType(key, "a list of strings or a comma-separated string", e);
    }
    return items.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /** {@link #stringList}, each item one of {@code allowed}; an unknown item fails, naming the key and the choices. */
  public List<String> stringListOf(String key, List<String> allowed) {
    List<String> items = stringList(key);
    for (String item : items) {
      if (!allowed.contains(item)) {
        throw new ConfigError(key + " contains '" + item + "', which is not allowed; allowed: "
            + String.join(", ", allowed));
      }
    }
    return items;
  }

  private static ConfigError wrongType(String key, String allowed, ConfigException e) {
    return new ConfigError(key + ": " + e.getMessage().replaceFirst("^.*?: ", "") + "; allowed: " + allowed);
  }
}
