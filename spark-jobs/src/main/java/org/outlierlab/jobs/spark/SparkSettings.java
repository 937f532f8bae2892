package org.outlierlab.jobs.spark;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.outlierlab.jobs.config.ConfigLoader;

/**
 * What a job's Spark is configured with, read with the job's other settings before Spark starts: every spark.* key
 * but the master, as strings, and {@code spark.master} ("" for spark-submit's or the embedded one).
 */
public record SparkSettings(Map<String, String> keys, String master) {
  public SparkSettings {
    keys = Collections.unmodifiableMap(new TreeMap<>(keys));
  }

  public static SparkSettings read(Config config) {
    Map<String, String> keys = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      if (e.getKey().startsWith(ConfigLoader.SPARK_PREFIX) && !e.getKey().equals("spark.master")) {
        keys.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    return new SparkSettings(keys, config.getString("spark.master"));
  }
}
