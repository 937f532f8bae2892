package org.outlierlab.jobs.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

/**
 * Deterministic merging of partial statistics. Floating-point sums depend on their order, and a shuffle delivers
 * its blocks in whatever order the executors answer, so a plain {@code reduceByKey} can give a different last bit
 * on every run and cluster. Here each partial carries an ordinal (a sequence, a chunk of token indices, an input
 * partition) and each key's partials are merged in ordinal order: layer_metrics is then a function of the
 * snapshots and the metrics settings alone, bit for bit, on the embedded Spark and on any cluster.
 */
final class OrderedMerge {
  private OrderedMerge() {}

  /** Each key's partials, merged in ascending ordinal. A key's partials are few (one per ordinal). */
  static <K, A> JavaPairRDD<K, A> byOrdinal(JavaPairRDD<K, Tuple2<Long, A>> partials, Function2<A, A, A> merge) {
    return partials.groupByKey().mapValues(parts -> {
      List<Tuple2<Long, A>> ordered = new ArrayList<>();
      parts.forEach(ordered::add);
      ordered.sort(Comparator.comparingLong(Tuple2::_1));
      A merged = ordered.get(0)._2();
      for (int i = 1; i < ordered.size(); i++) {
        merged = merge.call(merged, ordered.get(i)._2());
      }
      return merged;
    });
  }

  /** {@code rows} sorted by their first element (a token index), as a list. */
  static <T> List<Tuple2<Integer, T>> byTokenIndex(Iterable<Tuple2<Integer, T>> rows) {
    List<Tuple2<Integer, T>> sorted = new ArrayList<>();
    rows.forEach(sorted::add);
    sorted.sort(Comparator.comparingInt(Tuple2::_1));
    return sorted;
  }
}
