package org.outlierlab.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.config.ConfigLoader;

/** The SparkSession a job runs in: master and every spark.* key from the resolved configuration. */
final class SparkSessions {
  private SparkSessions() {}

  static SparkSession create(Config config, String appName) {
    SparkSession.Builder builder = SparkSession.builder().appName("outlier-lab " + appName);
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      if (e.getKey().startsWith(ConfigLoader.SPARK_PREFIX)) {
        builder.config(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    return builder.getOrCreate();
  }
}
