package org.outlierlab.jobs.dataprep;

import com.typesafe.config.Config;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.outlierlab.dataprep.DataPrepSettings;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;

/**
 * What the data-prep job runs with: the validated {@code data_prep.*} settings, the section as the manifest records
 * it, and the job's Spark.
 */
public record DataPrepJobSettings(DataPrepSettings prep, Map<String, Object> recorded, SparkSettings spark) {
  public DataPrepJobSettings {
    recorded = Collections.unmodifiableMap(new LinkedHashMap<>(recorded));
  }

  public static DataPrepJobSettings read(Config config) {
    DataPrepSettings prep = DataPrepConfig.read(new ConfigReader(config));
    // The manifest records how the data was made; whether it replaced an older output is not part of that.
    Map<String, Object> recorded = config.getConfig(DataPrepConfig.SECTION).withoutPath("overwrite").root().unwrapped();
    return new DataPrepJobSettings(prep, recorded, SparkSettings.read(config));
  }
}
