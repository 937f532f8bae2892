package org.outlierlab.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Labels of nested blocks, as Spark's UI reads them (the thread's spark.job.description). */
class JobDescriptionTest {
  @Test
  void aBlockLabelsItsJobsAndPutsBackTheLabelBeforeIt() {
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      SparkContext sc = spark.sparkContext();
      try (JobDescription outer = JobDescription.of(sc, "outer")) {
        try (JobDescription inner = JobDescription.of(sc, "inner")) {
          assertEquals("inner", sc.getLocalProperty("spark.job.description"));
        }
        assertEquals("outer", sc.getLocalProperty("spark.job.description"));
      }
      assertNull(sc.getLocalProperty("spark.job.description"), "no label after the outermost block");
    } finally {
      spark.stop();
    }
  }
}
