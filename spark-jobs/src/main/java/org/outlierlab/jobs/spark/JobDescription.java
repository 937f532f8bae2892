package org.outlierlab.jobs.spark;

import org.apache.spark.SparkContext;

/**
 * The label Spark's UI shows for the Spark jobs of one block of work (try-with-resources): the label that was set
 * before comes back when the block ends, so no stage runs under another block's label.
 */
public final class JobDescription implements AutoCloseable {
  /** The local property {@link SparkContext#setJobDescription} sets (Spark's own constant is private to Spark). */
  private static final String PROPERTY = "spark.job.description";

  private final SparkContext sc;
  private final String previous;

  private JobDescription(SparkContext sc, String previous) {
    this.sc = sc;
    this.previous = previous;
  }

  /** Labels the Spark jobs this thread starts until {@link #close()}. */
  public static JobDescription of(SparkContext sc, String description) {
    String previous = sc.getLocalProperty(PROPERTY);
    sc.setJobDescription(description);
    return new JobDescription(sc, previous);
  }

  /** Puts back the label that was set before (none: none). */
  @Override
  public void close() {
    sc.setJobDescription(previous);
  }
}
