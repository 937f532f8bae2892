package org.outlierlab.jobs;

import java.io.Serializable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * One token row of a snapshot, decoded by Spark's bean encoder: its generated code copies the array column
 * straight into a float[] (reading it as a Row boxes every value, which made that conversion the metrics job's
 * main cost).
 */
public final class TokenRow implements Serializable {
  private String runId;
  private long step;
  private int layer;
  private String site;
  private int tokenIndex;
  private float[] values;

  /** The token rows of {@code snapshots} that pass {@code filter}. */
  static JavaRDD<TokenRow> of(Dataset<Row> snapshots, Column filter) {
    return snapshots.filter(filter)
        .select(snapshots.col("run_id").as("runId"), snapshots.col("step"), snapshots.col("layer"),
            snapshots.col("site"), snapshots.col("token_index").as("tokenIndex"), snapshots.col("values"))
        .as(Encoders.bean(TokenRow.class))
        .javaRDD();
  }

  public String getRunId() {
    return runId;
  }

  public void setRunId(String runId) {
    this.runId = runId;
  }

  public long getStep() {
    return step;
  }

  public void setStep(long step) {
    this.step = step;
  }

  public int getLayer() {
    return layer;
  }

  public void setLayer(int layer) {
    this.layer = layer;
  }

  public String getSite() {
    return site;
  }

  public void setSite(String site) {
    this.site = site;
  }

  public int getTokenIndex() {
    return tokenIndex;
  }

  public void setTokenIndex(int tokenIndex) {
    this.tokenIndex = tokenIndex;
  }

  public float[] getValues() {
    return values;
  }

  public void setValues(float[] values) {
    this.values = values;
  }

  /** The (run, step, layer, site) group this row belongs to. */
  MetricsJob.SiteKey group() {
    return new MetricsJob.SiteKey(runId, step, layer, site);
  }
}
