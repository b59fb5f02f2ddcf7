import { cloudEvent, http } from '@google-cloud/functions-framework';
import { gcpHandlerDeps } from './handler-deps.ts';
import { createGcpHttpFunction } from './http-function.ts';
import { createGcpPubSubFunction } from './pubsub-function.ts';
import { createGcpScheduleFunction } from './schedule-function.ts';
import { deliverUnparsableJson } from './unparsable-json.ts';

/** Cloud Functions (2nd gen) entry points; the only place the GCP function reads process.env. */
deliverUnparsableJson();
const deps = gcpHandlerDeps(process.env);
http('astroIdentitySync', createGcpHttpFunction(deps));
cloudEvent('astroIdentitySyncEvents', createGcpPubSubFunction(deps));
cloudEvent('astroIdentitySyncSchedule', createGcpScheduleFunction(deps));
