package org.outlierlab.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.config.ConfigLoader;

/** The SparkSession a job runs in: master and every spark.* key from the resolved configuration. */
final class SparkSessions {
  static final String EMBEDDED = "local[*]";

  private SparkSessions() {}

  static SparkSession create(Config config, String appName) {
    SparkSession.Builder builder = SparkSession.builder().appName("outlier-lab " + appName);
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      String value = String.valueOf(e.getValue().unwrapped());
      if (e.getKey().startsWith(ConfigLoader.SPARK_PREFIX) && !(e.getKey().equals("spark.master") && value.isEmpty())) {
        builder.config(e.getKey(), value);
      }
    }
    builder.master(master(config.getString("spark.master"), System.getProperty("spark.master")));
    return builder.getOrCreate();
  }

  /** The configured master; else spark-submit's (it sets the spark.master property); else the embedded one. */
  static String master(String configured, String fromSparkSubmit) {
    if (!configured.isEmpty()) {
      return configured;
    }
    return fromSparkSubmit != null && !fromSparkSubmit.isEmpty() ? fromSparkSubmit : EMBEDDED;
  }
}
