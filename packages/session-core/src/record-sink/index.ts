export { RecordDeliveryError, type RecordDeliveryErrorOptions } from "./delivery-error.js";
export {
  type HttpFetch,
  type HttpRecordSinkOptions,
  type HttpRequestInit,
  type HttpResponse,
  httpRecordSink,
} from "./http-record-sink.js";
export type { DeliverRecords, DeliveryContext, RecordSinkOptions } from "./options.js";
export { createRecordSink, type RecordSink } from "./record-sink.js";
