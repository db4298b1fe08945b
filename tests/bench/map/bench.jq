select(.active == true)
| .name = .full_name
| .id = (.user_id | tonumber)
| .amount = (.amount_str | tonumber)
| .created = {"$date": (.created_ts | todate)}
| .address = {city: .city, zip: .zip}
| del(.full_name, .user_id, .amount_str, .created_ts, .city, .zip, .password)
