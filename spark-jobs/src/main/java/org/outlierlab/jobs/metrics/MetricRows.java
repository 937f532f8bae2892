package org.outlierlab.jobs.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.outlierlab.metrics.Statistic;

/** The rows of layer_metrics ({@link MetricsJob#SCHEMA}) of the selected statistics: the others are never written. */
final class MetricRows {
  private final Set<Statistic> selected;
  private final List<Row> rows = new ArrayList<>();

  MetricRows(Set<Statistic> selected) {
    this.selected = Set.copyOf(selected);
  }

  boolean selects(Statistic s) {
    return selected.contains(s);
  }

  void add(MetricsJob.SiteKey k, Statistic s, double value) {
    if (selects(s)) {
      rows.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), s.metric(), value));
    }
  }

  /** A {@link org.outlierlab.metrics.LayerStats#metrics()} map of statistics by metric name. */
  void addAll(MetricsJob.SiteKey k, Map<String, Double> metrics) {
    metrics.forEach((metric, value) -> add(k, Statistic.named(metric).orElseThrow(), value));
  }

  /** Rows already in layer_metrics' schema, of one selected statistic. */
  void addRows(Statistic s, List<Row> statisticRows) {
    if (selects(s)) {
      rows.addAll(statisticRows);
    }
  }

  List<Row> rows() {
    return rows;
  }
}
