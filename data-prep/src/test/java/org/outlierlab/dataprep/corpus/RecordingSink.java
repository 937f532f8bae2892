package org.outlierlab.dataprep.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Collects what a reader emits: finished documents (text and provenance) and bad-record counts. */
public final class RecordingSink implements DocumentSink {
  public final List<String> texts = new ArrayList<>();
  public final List<DocumentInfo> infos = new ArrayList<>();
  public final List<Integer> segmentCounts = new ArrayList<>();
  public final Map<String, Integer> bad = new TreeMap<>();
  private StringBuilder open;
  private DocumentInfo openInfo;
  private int segments;

  @Override
  public void begin(DocumentInfo info) {
    open = new StringBuilder();
    openInfo = info;
    segments = 0;
  }

  @Override
  public void text(CharSequence segment) {
    open.append(segment);
    segments++;
  }

  @Override
  public void end() {
    texts.add(open.toString());
    infos.add(openInfo);
    segmentCounts.add(segments);
    open = null;
  }

  @Override
  public void bad(String reason) {
    bad.merge(reason, 1, Integer::sum);
    open = null;
  }
}
