package org.outlierlab.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/** The one place a job's SparkSession is opened: master and every spark.* key of its {@link SparkSettings}. */
public final class SparkSessions {
  static final String EMBEDDED = "local[*]";
  private static final String HADOOP_PREFIX = "spark.hadoop.";

  private SparkSessions() {}

  /** A session for {@code appName}; closing it (try-with-resources) stops Spark. */
  public static SparkSession open(SparkSettings spark, String appName) {
    return open(spark, appName, Map.of());
  }

  /** As {@link #open(SparkSettings, String)}, with {@code defaults}: Spark settings the configuration may override. */
  public static SparkSession open(SparkSettings spark, String appName, Map<String, String> defaults) {
    SparkSession.Builder builder = SparkSession.builder();
    settings(spark, appName, defaults).forEach(builder::config);
    return builder.getOrCreate();
  }

  /**
   * What a job's Spark runs with: {@code defaults} and the app name, overridden by every spark.* key of the
   * configuration, and the master (see {@link #master}).
   */
  public static Map<String, String> settings(SparkSettings spark, String appName, Map<String, String> defaults) {
    Map<String, String> settings = new LinkedHashMap<>(defaults);
    settings.put("spark.app.name", "outlier-lab " + appName);
    settings.putAll(spark.keys());
    settings.put("spark.master", master(spark.master(), System.getProperty("spark.master")));
    return settings;
  }

  /** The Hadoop configuration Spark would give the driver: defaults plus the configuration's spark.hadoop.* keys. */
  public static Configuration hadoopConf(SparkSettings spark) {
    Configuration conf = new Configuration();
    spark.keys().forEach((key, value) -> {
      if (key.startsWith(HADOOP_PREFIX)) {
        conf.set(key.substring(HADOOP_PREFIX.length()), value);
      }
    });
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
