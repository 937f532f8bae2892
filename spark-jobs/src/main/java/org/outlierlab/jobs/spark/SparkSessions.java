package org.outlierlab.jobs.spark;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.config.ConfigLoader;

/** The SparkSession a job runs in: master and every spark.* key from the resolved configuration. */
public final class SparkSessions {
  static final String EMBEDDED = "local[*]";
  private static final String HADOOP_PREFIX = "spark.hadoop.";

  private SparkSessions() {}

  public static SparkSession create(Config config, String appName) {
    return create(config, appName, Map.of());
  }

  /** As {@link #create(Config, String)}, with {@code defaults}: Spark settings the configuration may override. */
  public static SparkSession create(Config config, String appName, Map<String, String> defaults) {
    SparkSession.Builder builder = SparkSession.builder();
    settings(config, appName, defaults).forEach(builder::config);
    return builder.getOrCreate();
  }

  /**
   * What a job's Spark runs with: {@code defaults} and the app name, overridden by every spark.* key of the
   * configuration, and the master (see {@link #master}).
   */
  public static Map<String, String> settings(Config config, String appName, Map<String, String> defaults) {
    Map<String, String> settings = new LinkedHashMap<>(defaults);
    settings.put("spark.app.name", "outlier-lab " + appName);
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      if (e.getKey().startsWith(ConfigLoader.SPARK_PREFIX) && !e.getKey().equals("spark.master")) {
        settings.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    settings.put("spark.master", master(config.getString("spark.master"), System.getProperty("spark.master")));
    return settings;
  }

  /** The Hadoop configuration Spark would give the driver: defaults plus the configuration's spark.hadoop.* keys. */
  public static Configuration hadoopConf(Config config) {
    Configuration conf = new Configuration();
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      if (e.getKey().startsWith(HADOOP_PREFIX)) {
        conf.set(e.getKey().substring(HADOOP_PREFIX.length()), String.valueOf(e.getValue().unwrapped()));
      }
    }
    return conf;
  }

  /** The configured master; else spark-submit's (it sets the spark.master property); else the embedded one. */
  static String master(String configured, String fromSparkSubmit) {
    if (!configured.isEmpty()) {
      return configured;
    }
    return fromSparkSubmit != null && !fromSparkSubmit.isEmpty() ? fromSparkSubmit : EMBEDDED;
  }
}
