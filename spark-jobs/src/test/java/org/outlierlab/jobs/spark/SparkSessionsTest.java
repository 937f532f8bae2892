package org.outlierlab.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SparkSessionsTest {
  @Test
  void anExplicitMasterWinsThenSparkSubmitsThenTheEmbeddedOne() {
    assertEquals("local[2]", SparkSessions.master("local[2]", "yarn"));
    assertEquals("yarn", SparkSessions.master("", "yarn"), "the defaults never override spark-submit --master");
    assertEquals("local[*]", SparkSessions.master("", null));
  }
}
